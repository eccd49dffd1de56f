//! The executor: walks a parse tree with data, writing output. It follows the structure of Go's
//! `text/template/exec.go` closely because that structure decides which node an error names,
//! how arguments are converted and when values are unwrapped.

use std::cell::Cell;
use std::fmt::Display;
use std::sync::Arc;

use crate::ast::*;
use crate::builtins::{self, Builtin};
use crate::error::Error;
use crate::func::{FuncError, Signature};
use crate::gofmt;
use crate::limits::{CallContext, Interrupt, TooLarge};
use crate::output::Output;
use crate::rval::RVal;
use crate::value::{Type, Value};
use crate::{Limits, Template};

/// Why a walk stopped early.
pub(crate) enum Stop {
    Err(Error),
    Break,
    Continue,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Err(e)
    }
}

type EResult<T> = Result<T, Error>;

/// The node execution is at, for error messages (Go's `state.at`).
#[derive(Clone, Copy)]
enum At<'t> {
    None,
    Node(&'t Node),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Operand(&'t Operand),
    Var(&'t VarNode),
}

impl At<'_> {
    fn pos_and_text(&self) -> Option<(Pos, String)> {
        Some(match *self {
            At::None => return None,
            At::Node(n) => (node_pos(n), n.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Operand(o) => (o.pos(), o.to_string()),
            At::Var(v) => (v.pos, v.to_string()),
        })
    }
}

fn node_pos(n: &Node) -> Pos {
    match n {
        Node::Text { pos, .. }
        | Node::Action { pos, .. }
        | Node::Template { pos, .. }
        | Node::Break { pos, .. }
        | Node::Continue { pos, .. } => *pos,
        Node::If(b) | Node::Range(b) | Node::With(b) => b.pos,
    }
}

pub(crate) struct State<'t, 'o, 'w> {
    tmpl: &'t Template,
    tree: &'t Tree,
    limits: &'t Limits,
    out: &'o mut Output<'w>,
    vars: Vec<(Arc<str>, RVal)>,
    /// Template calls in progress (Go's `state.depth`).
    depth: usize,
    /// Lists being walked, across template calls: bounds the native stack.
    nesting: usize,
    /// Steps left until the interrupt hook is asked again, shared by the states of called
    /// templates.
    until_poll: &'o Cell<u32>,
    at: At<'t>,
}

impl<'t, 'o, 'w> State<'t, 'o, 'w> {
    pub(crate) fn new(
        tmpl: &'t Template,
        tree: &'t Tree,
        out: &'o mut Output<'w>,
        until_poll: &'o Cell<u32>,
        dot: RVal,
    ) -> Self {
        State {
            tmpl,
            tree,
            limits: tmpl.limits(),
            out,
            vars: vec![("$".into(), dot)],
            depth: 0,
            nesting: 0,
            until_poll,
            at: At::None,
        }
    }

    // ---- errors ---------------------------------------------------------------------------

    fn error_text(&self, msg: impl Display) -> String {
        let name = &self.tree.name;
        match self.at.pos_and_text() {
            None => format!("template: {name}: {msg}"),
            Some((pos, context)) => format!(
                "template: {}: executing {} at <{}>: {}",
                self.tree.location(pos),
                gofmt::quote(name),
                context,
                msg
            ),
        }
    }

    fn errorf<T>(&self, msg: impl Display) -> EResult<T> {
        Err(Error::exec(self.error_text(msg)))
    }

    fn stop(&self, msg: impl Display) -> Stop {
        Stop::Err(Error::exec(self.error_text(msg)))
    }

    // ---- interrupt and value size -------------------------------------------------------------

    /// Counts `cost` steps and asks the interrupt hook once [`Interrupt::POLL_INTERVAL`] of
    /// them have passed since it was last asked. Steps are counted where loops turn — range
    /// iterations, commands (which every call and every action or condition has), template
    /// calls — so that no loop runs unpolled; nodes between them are bounded by the text.
    fn tick(&self, cost: usize) -> EResult<()> {
        let cost = u32::try_from(cost).unwrap_or(u32::MAX);
        match self.until_poll.get().checked_sub(cost) {
            Some(left) if left > 0 => {
                self.until_poll.set(left);
                Ok(())
            }
            _ => self.poll_interrupt(),
        }
    }

    /// Counts a step per KiB of data a write or call handled, so that such steps poll sooner.
    fn tick_per_kib(&self, bytes: usize) -> EResult<()> {
        match bytes >> 10 {
            0 => Ok(()),
            kib => self.tick(kib),
        }
    }

    #[cold]
    fn poll_interrupt(&self) -> EResult<()> {
        self.until_poll.set(Interrupt::POLL_INTERVAL);
        let Some(interrupt) = &self.limits.interrupt else { return Ok(()) };
        match interrupt.check() {
            None => Ok(()),
            Some(reason) => {
                Err(Error::interrupted(self.error_text(format!("execution interrupted: {reason}"))))
            }
        }
    }

    fn call_context(&self) -> CallContext {
        CallContext::new(self.limits.max_value_bytes)
    }

    /// Refuses a function's result that owns more than the value-size limit; returns its size.
    fn check_result_size(&self, v: &Value) -> Result<usize, TooLarge> {
        let limit = self.limits.max_value_bytes;
        let size = v.owned_size(limit);
        if size > limit {
            let exact = matches!(v, Value::String(_));
            return Err(TooLarge { size: exact.then_some(size), limit });
        }
        Ok(size)
    }

    /// The error of a failed call of `name`; a refusal over the size limit is a `Limit` error.
    fn call_error(&mut self, node: At<'t>, name: &str, err: FuncError) -> Error {
        self.at = node;
        let text = self.error_text(format!("error calling {name}: {err}"));
        if err.is_too_large() {
            Error::limit(text)
        } else {
            Error::exec(text)
        }
    }

    // ---- walking ----------------------------------------------------------------------------

    pub(crate) fn walk_list(&mut self, dot: &RVal, list: &'t ListNode) -> Result<(), Stop> {
        if self.nesting >= self.limits.max_nesting {
            let msg = format!("exceeded maximum nesting depth ({})", self.limits.max_nesting);
            return Err(Stop::Err(Error::limit(self.error_text(msg))));
        }
        self.nesting += 1;
        let mut result = Ok(());
        for node in &list.nodes {
            result = self.walk(dot, node);
            if result.is_err() {
                break;
            }
        }
        self.nesting -= 1;
        result
    }

    fn walk(&mut self, dot: &RVal, node: &'t Node) -> Result<(), Stop> {
        self.at = At::Node(node);
        match node {
            Node::Action { pipe, .. } => {
                let val = self.eval_pipeline(dot, Some(pipe))?;
                if pipe.decl.is_empty() {
                    self.print_value(node, &val)?;
                }
                Ok(())
            }
            Node::Break { .. } => Err(Stop::Break),
            Node::Continue { .. } => Err(Stop::Continue),
            Node::If(b) => self.walk_if_or_with(false, dot, b),
            Node::With(b) => self.walk_if_or_with(true, dot, b),
            Node::Range(b) => self.walk_range(dot, node, b),
            Node::Template { name, pipe, .. } => self.walk_template(dot, node, name, pipe.as_ref()),
            Node::Text { text, .. } => self.write(text).map_err(Stop::Err),
        }
    }

    fn write(&mut self, s: &str) -> EResult<()> {
        self.tick_per_kib(s.len())?;
        if s.len() > self.limits.max_output_bytes.saturating_sub(self.out.len()) {
            return Err(self.output_too_large());
        }
        self.out.text.push_str(s);
        self.out.flush_if_full().map_err(|e| Error::write(&e))
    }

    fn output_too_large(&self) -> Error {
        Error::limit(self.error_text(format!(
            "output exceeds the limit of {} bytes",
            self.limits.max_output_bytes
        )))
    }

    fn walk_if_or_with(&mut self, is_with: bool, dot: &RVal, b: &'t Branch) -> Result<(), Stop> {
        let mark = self.vars.len();
        let result = self.walk_if_or_with_inner(is_with, dot, b);
        self.vars.truncate(mark);
        result
    }

    fn walk_if_or_with_inner(
        &mut self,
        is_with: bool,
        dot: &RVal,
        b: &'t Branch,
    ) -> Result<(), Stop> {
        let val = self.eval_pipeline(dot, Some(&b.pipe))?;
        let truth = builtins::truth(&val);
        if truth {
            if is_with {
                self.walk_list(&val, &b.list)
            } else {
                self.walk_list(dot, &b.list)
            }
        } else if let Some(else_list) = &b.else_list {
            self.walk_list(dot, else_list)
        } else {
            Ok(())
        }
    }

    fn walk_range(&mut self, dot: &RVal, node: &'t Node, r: &'t Branch) -> Result<(), Stop> {
        self.at = At::Node(node);
        let mark = self.vars.len();
        let result = self.walk_range_inner(dot, node, r);
        self.vars.truncate(mark);
        match result {
            Err(Stop::Break) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &RVal, node: &'t Node, r: &'t Branch) -> Result<(), Stop> {
        let val = self.eval_pipeline(dot, Some(&r.pipe))?;
        let body_mark = self.vars.len();
        let mut ran = false;
        match &val.v {
            Value::List(list) => {
                // An interrupt between iterations names the range.
                self.at = At::Node(node);
                for (i, item) in list.items.iter().enumerate() {
                    ran = true;
                    let elem = RVal::elem(item.clone(), list.elem_type());
                    self.range_iteration(r, body_mark, RVal::plain(Value::Int(i as i64)), elem)?;
                }
            }
            Value::Map(map) => {
                self.at = At::Node(node);
                for (key, item) in map.entries.iter() {
                    ran = true;
                    let elem = RVal::elem(item.clone(), map.elem_type());
                    self.range_iteration(
                        r,
                        body_mark,
                        RVal::plain(Value::String(key.clone())),
                        elem,
                    )?;
                }
            }
            Value::Missing => {}
            other => {
                let shown = gofmt::sprint(std::slice::from_ref(other));
                return Err(self.stop(format!("range can't iterate over {shown}")));
            }
        }
        if !ran {
            if let Some(else_list) = &r.else_list {
                return self.walk_list(dot, else_list);
            }
        }
        Ok(())
    }

    fn range_iteration(
        &mut self,
        r: &'t Branch,
        mark: usize,
        index: RVal,
        elem: RVal,
    ) -> Result<(), Stop> {
        self.tick(1)?;
        let n = r.pipe.decl.len();
        if n > 0 {
            let top = self.vars.len() - 1;
            self.vars[top].1 = elem.clone();
        }
        if n > 1 {
            let second = self.vars.len() - 2;
            self.vars[second].1 = index;
        }
        let result = self.walk_list(&elem, &r.list);
        self.vars.truncate(mark);
        match result {
            Err(Stop::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_template(
        &mut self,
        dot: &RVal,
        node: &'t Node,
        name: &str,
        pipe: Option<&'t Pipe>,
    ) -> Result<(), Stop> {
        self.at = At::Node(node);
        let Some(tree) = self.tmpl.tree(name) else {
            return Err(self.stop(format!("template {} not defined", gofmt::quote(name))));
        };
        if self.depth >= self.limits.max_template_depth {
            let msg =
                format!("exceeded maximum template depth ({})", self.limits.max_template_depth);
            return Err(Stop::Err(Error::limit(self.error_text(msg))));
        }
        let new_dot = self.eval_pipeline(dot, pipe)?;
        let mut inner = State {
            tmpl: self.tmpl,
            tree,
            limits: self.limits,
            out: &mut *self.out,
            vars: vec![("$".into(), new_dot.clone())],
            depth: self.depth + 1,
            nesting: self.nesting,
            until_poll: self.until_poll,
            at: At::None,
        };
        inner.walk_list(&new_dot, &tree.root)
    }

    // ---- pipelines --------------------------------------------------------------------------

    fn eval_pipeline(&mut self, dot: &RVal, pipe: Option<&'t Pipe>) -> EResult<RVal> {
        let Some(pipe) = pipe else {
            self.tick(1)?; // a template call without a pipeline still counts
            return Ok(RVal::missing());
        };
        self.at = At::Pipe(pipe);
        let value = match &pipe.cmds[..] {
            [] => RVal::missing(),
            [only] => self.eval_command(dot, only, None)?.unbox(),
            [first, rest @ ..] => {
                let mut value = self.eval_command(dot, first, None)?.unbox();
                for cmd in rest {
                    value = self.eval_command(dot, cmd, Some(value))?.unbox();
                }
                value
            }
        };
        for var in &pipe.decl {
            let name = &var.idents[0];
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Operand], fin: &Option<RVal>) -> EResult<()> {
        if args.len() > 1 || fin.is_some() {
            return self.errorf(format!("can't give argument to non-function {}", args[0]));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &RVal, cmd: &'t Command, fin: Option<RVal>) -> EResult<RVal> {
        self.tick(1)?;
        let first = &cmd.args[0];
        match first {
            Operand::Field { idents, .. } => {
                self.at = At::Operand(first);
                return self.eval_field_chain(
                    dot,
                    dot.clone(),
                    At::Operand(first),
                    idents,
                    &cmd.args,
                    fin,
                );
            }
            Operand::Chain { node, fields, .. } => {
                return self.eval_chain(dot, first, node, fields, &cmd.args, fin)
            }
            Operand::Identifier { name, callee, .. } => {
                self.at = At::Operand(first);
                return self.eval_call(dot, callee, At::Cmd(cmd), name, &cmd.args, fin);
            }
            Operand::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, Some(p));
            }
            Operand::Variable(v) => return self.eval_variable(dot, v, &cmd.args, fin),
            _ => {}
        }
        self.at = At::Operand(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Operand::Bool(_, b) => Ok(RVal::plain(Value::Bool(*b))),
            Operand::Dot(_) => Ok(dot.clone()),
            Operand::Nil(_) => self.errorf("nil is not a command"),
            Operand::Number(n) => self.ideal_constant(n),
            Operand::String { text, .. } => Ok(RVal::plain(Value::String(text.clone()))),
            _ => {
                self.errorf(format!("can't evaluate command {}", gofmt::quote(&first.to_string())))
            }
        }
    }

    fn ideal_constant(&self, n: &NumberNode) -> EResult<RVal> {
        let text = &*n.text;
        if let Some((re, im)) = n.complex {
            return Ok(RVal::plain(Value::Complex(re, im)));
        }
        let is_hex_int = text.len() > 2
            && text.starts_with('0')
            && matches!(text.as_bytes()[1], b'x' | b'X')
            && !text.contains(['p', 'P']);
        let is_rune = text.starts_with('\'');
        if let Some(f) = n.float {
            if !is_hex_int && !is_rune && text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Ok(RVal::plain(Value::Float(f)));
            }
        }
        if let Some(i) = n.int {
            return Ok(RVal::plain(Value::Int(i)));
        }
        if n.uint.is_some() {
            return self.errorf(format!("{text} overflows int"));
        }
        Ok(RVal::missing())
    }

    fn eval_chain(
        &mut self,
        dot: &RVal,
        chain: &'t Operand,
        base: &'t Operand,
        fields: &[Arc<str>],
        args: &'t [Operand],
        fin: Option<RVal>,
    ) -> EResult<RVal> {
        self.at = At::Operand(chain);
        if matches!(base, Operand::Nil(_)) {
            return self.errorf(format!("indirection through explicit nil in {chain}"));
        }
        let receiver = self.eval_arg(dot, None, base)?;
        self.eval_field_chain(dot, receiver, At::Operand(chain), fields, args, fin)
    }

    fn eval_variable(
        &mut self,
        dot: &RVal,
        v: &'t VarNode,
        args: &'t [Operand],
        fin: Option<RVal>,
    ) -> EResult<RVal> {
        self.at = At::Var(v);
        let value = self.var_value(&v.idents[0])?;
        if v.idents.len() == 1 {
            if !args.is_empty() {
                self.not_a_function(args, &fin)?;
            }
            return Ok(value);
        }
        self.eval_field_chain(dot, value, At::Var(v), &v.idents[1..], args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &RVal,
        mut receiver: RVal,
        node: At<'t>,
        idents: &[Arc<str>],
        args: &'t [Operand],
        fin: Option<RVal>,
    ) -> EResult<RVal> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            receiver = self.eval_field(dot, ident, node, &[], None, receiver)?;
        }
        self.eval_field(dot, &idents[n - 1], node, args, fin, receiver)
    }

    fn eval_field(
        &mut self,
        dot: &RVal,
        name: &str,
        node: At<'t>,
        args: &'t [Operand],
        fin: Option<RVal>,
        receiver: RVal,
    ) -> EResult<RVal> {
        // The static type is named only in errors (building its name allocates).
        let typ = || receiver.static_type();
        let has_args = args.len() > 1 || fin.is_some();
        match &receiver.v {
            Value::Missing => Ok(RVal::missing()),
            Value::Nil => self.errorf(format!("nil pointer evaluating {}.{name}", typ())),
            Value::Object(obj) => match obj.method(name) {
                Some(method) => self.eval_call(dot, &Callee::User(method), node, name, args, fin),
                None => self.errorf(format!("can't evaluate field {name} in type {}", typ())),
            },
            Value::Struct(s) | Value::Ptr(s) => match s.ty.field_index(name) {
                Some(i) => {
                    if has_args {
                        return self.errorf(format!(
                            "{name} has arguments but cannot be invoked as function"
                        ));
                    }
                    Ok(RVal::elem(s.fields[i].clone(), &s.ty.fields[i].1))
                }
                None => self.errorf(format!("can't evaluate field {name} in type {}", typ())),
            },
            Value::Map(m) => {
                if has_args {
                    return self.errorf(format!("{name} is not a method but has arguments"));
                }
                Ok(match m.entries.get(name) {
                    Some(v) => RVal::elem(v.clone(), m.elem_type()),
                    None => RVal::missing(),
                })
            }
            _ => self.errorf(format!("can't evaluate field {name} in type {}", typ())),
        }
    }

    // ---- calls ------------------------------------------------------------------------------

    fn eval_call(
        &mut self,
        dot: &RVal,
        callee: &Callee,
        node: At<'t>,
        name: &str,
        args: &'t [Operand],
        fin: Option<RVal>,
    ) -> EResult<RVal> {
        let args = args.get(1..).unwrap_or(&[]);
        let sig: &Signature = match callee {
            Callee::Builtin(b) => b.signature(),
            Callee::User(f) => f.signature(),
        };
        let num_in = args.len() + usize::from(fin.is_some());
        let num_fixed = sig.params.len();
        if sig.variadic.is_some() {
            if num_in < num_fixed {
                return self.errorf(format!(
                    "wrong number of args for {name}: want at least {num_fixed} got {}",
                    args.len()
                ));
            }
        } else if num_in != num_fixed {
            return self
                .errorf(format!("wrong number of args for {name}: want {num_fixed} got {num_in}"));
        }
        if let Callee::Builtin(b @ (Builtin::And | Builtin::Or)) = callee {
            return self.eval_and_or(*b == Builtin::Or, dot, args, fin);
        }
        let ctx = self.call_context();
        // Builtins take the arguments with their static types; a caller's function takes the
        // values alone, gathered as such.
        let (result, arg_bytes) = match callee {
            Callee::Builtin(b) => {
                let argv = self.eval_call_args(dot, sig, args, fin, num_in, |a| a)?;
                (b.call(&ctx, &argv), string_bytes(argv.iter().map(|a| &a.v)))
            }
            Callee::User(f) => {
                let argv = self.eval_call_args(dot, sig, args, fin, num_in, |a| a.v)?;
                let bytes = string_bytes(argv.iter());
                let result = f.call_in(&ctx, &argv);
                (result.map(|v| RVal::elem(v, &f.signature().result)), bytes)
            }
        };
        let checked = result.and_then(|v| Ok((self.check_result_size(&v.v)?, v)));
        match checked {
            Ok((size, v)) => {
                self.tick_per_kib(size.saturating_add(arg_bytes))?;
                Ok(v)
            }
            Err(err) => Err(self.call_error(node, name, err)),
        }
    }

    fn eval_and_or(
        &mut self,
        is_or: bool,
        dot: &RVal,
        args: &'t [Operand],
        fin: Option<RVal>,
    ) -> EResult<RVal> {
        let mut v = RVal::missing();
        for arg in args {
            v = self.eval_arg(dot, Some(&Type::Reflect), arg)?;
            if builtins::truth(&v) == is_or {
                return Ok(v);
            }
        }
        if let Some(f) = fin {
            v = self.validate_type(f, Some(&Type::Reflect))?;
        }
        Ok(v)
    }

    fn eval_call_args<T>(
        &mut self,
        dot: &RVal,
        sig: &Signature,
        args: &'t [Operand],
        fin: Option<RVal>,
        num_in: usize,
        keep: fn(RVal) -> T,
    ) -> EResult<Vec<T>> {
        let mut argv = Vec::with_capacity(num_in);
        for (i, arg) in args.iter().enumerate() {
            let ty = sig.param(i).expect("arity checked");
            argv.push(keep(self.eval_arg(dot, Some(ty), arg)?));
        }
        if let Some(f) = fin {
            let ty = match &sig.variadic {
                Some(elem) if num_in > sig.params.len() => elem,
                _ => &sig.params[num_in - 1],
            };
            argv.push(keep(self.validate_type(f, Some(ty))?));
        }
        Ok(argv)
    }

    /// Go's `validateType`: checks that a value may be passed as `ty`, unwrapping an interface
    /// and turning "no value" into the zero value where Go does.
    fn validate_type(&self, value: RVal, ty: Option<&Type>) -> EResult<RVal> {
        let Some(ty) = ty else { return Ok(value) };
        if matches!(value.v, Value::Missing) {
            if ty.can_be_nil() {
                return Ok(RVal::elem(
                    if *ty == Type::Reflect { Value::Missing } else { ty.zero() },
                    ty,
                ));
            }
            return self.errorf(format!("invalid value; expected {ty}"));
        }
        if *ty == Type::Reflect || *ty == Type::Any {
            return Ok(value);
        }
        match value.v.go_type() {
            Some(vt) if vt.assignable_to(ty) => Ok(RVal::plain(value.v)),
            Some(vt) => self.errorf(format!("wrong type for value; expected {ty}; got {vt}")),
            None => self.errorf(format!("wrong type for value; expected {ty}; got interface {{}}")),
        }
    }

    fn eval_arg(&mut self, dot: &RVal, ty: Option<&Type>, n: &'t Operand) -> EResult<RVal> {
        self.at = At::Operand(n);
        let value = match n {
            Operand::Dot(_) => dot.clone(),
            Operand::Nil(_) => {
                let ty = ty.unwrap_or(&Type::Any);
                if ty.can_be_nil() {
                    let zero = if *ty == Type::Reflect { Value::Missing } else { ty.zero() };
                    return Ok(RVal::elem(zero, ty));
                }
                return self.errorf(format!("cannot assign nil to {ty}"));
            }
            Operand::Field { idents, .. } => self.eval_field_chain(
                dot,
                dot.clone(),
                At::Operand(n),
                idents,
                std::slice::from_ref(n),
                None,
            )?,
            Operand::Variable(v) => self.eval_variable(dot, v, &[], None)?,
            Operand::Pipe(p) => self.eval_pipeline(dot, Some(p))?,
            Operand::Identifier { name, callee, .. } => {
                self.eval_call(dot, callee, At::Operand(n), name, &[], None)?
            }
            Operand::Chain { node, fields, .. } => {
                self.eval_chain(dot, n, node, fields, &[], None)?
            }
            _ => return self.eval_literal_arg(ty.unwrap_or(&Type::Any), n),
        };
        self.validate_type(value, ty)
    }

    fn eval_literal_arg(&self, ty: &Type, n: &Operand) -> EResult<RVal> {
        let number = match n {
            Operand::Number(num) => Some(num.as_ref()),
            _ => None,
        };
        let found = |what: &str| self.errorf(format!("expected {what}; found {n}"));
        let v = match ty {
            Type::Bool => match n {
                Operand::Bool(_, b) => Value::Bool(*b),
                _ => return found("bool"),
            },
            Type::Float64 => match number.and_then(|x| x.float) {
                Some(f) => Value::Float(f),
                None => return found("float"),
            },
            Type::Int => match number.and_then(|x| x.int) {
                Some(i) => Value::Int(i),
                None => return found("integer"),
            },
            Type::Uint | Type::Uint16 => match number.and_then(|x| x.uint) {
                Some(u) => Value::Uint(u),
                None => return found("unsigned integer"),
            },
            Type::String => match n {
                Operand::String { text, .. } => Value::String(text.clone()),
                _ => return found("string"),
            },
            Type::Any | Type::Reflect => return self.eval_empty_interface(n),
            _ => return self.errorf(format!("can't handle {n} for arg of type {ty}")),
        };
        Ok(RVal::plain(v))
    }

    fn eval_empty_interface(&self, n: &Operand) -> EResult<RVal> {
        match n {
            Operand::Bool(_, b) => Ok(RVal::plain(Value::Bool(*b))),
            Operand::Number(num) => self.ideal_constant(num),
            Operand::String { text, .. } => Ok(RVal::plain(Value::String(text.clone()))),
            _ => self.errorf(format!("can't handle assignment of {n} to empty interface argument")),
        }
    }

    // ---- variables and printing ---------------------------------------------------------------

    fn var_value(&self, name: &str) -> EResult<RVal> {
        match self.vars.iter().rev().find(|(n, _)| &**n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => self.errorf(format!("undefined variable: {name}")),
        }
    }

    fn set_var(&mut self, name: &str, value: RVal) -> EResult<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| &**n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => self.errorf(format!("undefined variable: {name}")),
        }
    }

    fn print_value(&mut self, node: &'t Node, v: &RVal) -> Result<(), Stop> {
        self.at = At::Node(node);
        match &v.v {
            Value::Missing => self.write("<no value>")?,
            Value::Func(f) => {
                return Err(self.stop(format!("can't print {node} of type {}", f.signature())));
            }
            Value::String(s) => self.write(s)?,
            other => {
                let shown = match other {
                    Value::Ptr(s) => Value::Struct(s.clone()),
                    other => other.clone(),
                };
                let before = self.out.len();
                let room = self.limits.max_output_bytes.saturating_sub(self.out.flushed());
                let written = gofmt::write_value_bounded(self.out.text, &shown, room);
                if written.is_err() {
                    return Err(Stop::Err(self.output_too_large()));
                }
                self.tick_per_kib(self.out.len() - before)?;
                self.out.flush_if_full().map_err(|e| Error::write(&e))?;
            }
        }
        Ok(())
    }
}

/// Bytes of the string arguments of a call.
fn string_bytes<'v>(argv: impl Iterator<Item = &'v Value>) -> usize {
    argv.map(|v| v.as_str().map_or(0, str::len)).fold(0, usize::saturating_add)
}
