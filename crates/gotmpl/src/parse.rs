//! The parser: Go's recursive-descent grammar for templates, with the same look-ahead buffer
//! so that error messages name the same line and token as Go's.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::*;
use crate::builtins::Builtin;
use crate::error::Error;
use crate::func::Function;
use crate::gofmt;
use crate::lex::{Item, ItemType, Lexer};
use crate::strconv;

/// Functions visible to the parser: user functions shadow builtins, as in Go.
pub struct FuncScope<'f> {
    pub user: &'f HashMap<String, Function>,
    /// The text came from bytes that are not UTF-8 ([`crate::raw_bytes`]).
    pub raw_bytes: bool,
}

impl FuncScope<'_> {
    fn resolve(&self, name: &str) -> Option<Callee> {
        if let Some(f) = self.user.get(name) {
            return Some(Callee::User(f.clone()));
        }
        Builtin::lookup(name).map(Callee::Builtin)
    }

    fn has(&self, name: &str) -> bool {
        self.user.contains_key(name) || Builtin::lookup(name).is_some()
    }
}

/// Parenthesised pipelines and nested control structures deeper than this are rejected, so a
/// hostile template cannot overflow the stack (Go has no such limit in 1.19). Real templates
/// nest a handful of levels.
pub const MAX_NESTING: usize = 100;

type PResult<T> = Result<T, Error>;

/// Parses `text` into trees, keyed by template name; the top-level tree is named `name`.
pub fn parse(
    name: &str,
    text: &str,
    funcs: &FuncScope<'_>,
) -> Result<HashMap<Arc<str>, Arc<Tree>>, Error> {
    let text: Arc<str> = text.into();
    let mut parser = Parser::new(name, text.clone(), funcs);
    let root = parser.parse_top()?;
    let top = Tree { name: name.into(), parse_name: name.into(), text, root };
    parser.add(top)?;
    Ok(parser.tree_set.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
}

struct Parser<'f> {
    parse_name: Arc<str>,
    text: Arc<str>,
    lex: Lexer,
    funcs: &'f FuncScope<'f>,
    token: [Item; 3],
    peek_count: usize,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
    depth: usize,
    tree_set: HashMap<Arc<str>, Tree>,
}

fn eof_item() -> Item {
    Item { typ: ItemType::Eof, pos: 0, val: String::new(), line: 0 }
}

impl<'f> Parser<'f> {
    fn new(name: &str, text: Arc<str>, funcs: &'f FuncScope<'f>) -> Parser<'f> {
        Parser {
            parse_name: name.into(),
            lex: Lexer::new(
                text.clone(),
                !funcs.user.contains_key("break"),
                !funcs.user.contains_key("continue"),
            ),
            text,
            funcs,
            token: [eof_item(), eof_item(), eof_item()],
            peek_count: 0,
            vars: vec!["$".into()],
            range_depth: 0,
            action_line: 0,
            depth: 0,
            tree_set: HashMap::new(),
        }
    }

    // ---- errors -------------------------------------------------------------------------

    fn errorf<T>(&self, msg: impl std::fmt::Display) -> PResult<T> {
        Err(Error::parse(format!("template: {}:{}: {}", self.parse_name, self.token[0].line, msg)))
    }

    fn unexpected<T>(&self, token: &Item, context: &str) -> PResult<T> {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.parse_name, self.action_line);
                if token.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{token}{extra}"));
        }
        self.errorf(format!("unexpected {token} in {context}"))
    }

    // ---- token buffer ---------------------------------------------------------------------

    fn next(&mut self) -> Item {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex.next_item();
        }
        self.token[self.peek_count].clone()
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item) {
        self.token[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item, t1: Item) {
        self.token[1] = t1;
        self.token[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> Item {
        if self.peek_count > 0 {
            return self.token[self.peek_count - 1].clone();
        }
        self.peek_count = 1;
        self.token[0] = self.lex.next_item();
        self.token[0].clone()
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.typ != ItemType::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> PResult<Item> {
        let t = self.next_non_space();
        if t.typ != expected {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    // ---- trees ------------------------------------------------------------------------------

    /// Adds a finished tree to the set, with Go's rules for empty and duplicate definitions.
    fn add(&mut self, tree: Tree) -> PResult<()> {
        match self.tree_set.get(&tree.name) {
            Some(existing) if !existing.root.is_empty_tree() => {
                if !tree.root.is_empty_tree() {
                    return self.errorf(format!(
                        "template: multiple definition of template {}",
                        gofmt::quote(&tree.name)
                    ));
                }
                Ok(())
            }
            _ => {
                self.tree_set.insert(tree.name.clone(), tree);
                Ok(())
            }
        }
    }

    fn new_tree(&self, name: &str, root: ListNode) -> Tree {
        Tree {
            name: name.into(),
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
        }
    }

    fn parse_top(&mut self) -> PResult<ListNode> {
        let mut root = ListNode { nodes: Vec::new() };
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim = self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.nodes.push(n),
                Parsed::End => return self.errorf("unexpected {{end}}"),
                Parsed::Else(_) => return self.errorf("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    /// `{{define "name"}} … {{end}}`; the `define` keyword has been read. Definitions start
    /// with a fresh variable scope.
    /// A string literal's value, with Go's decoding of bytes that are not UTF-8.
    fn unquote(&self, literal: &str) -> Result<String, &'static str> {
        let value = strconv::unquote(literal)?;
        if self.funcs.raw_bytes && literal.starts_with('"') {
            return Ok(crate::raw_bytes::as_go_decodes(value));
        }
        Ok(value)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let t = self.next_non_space();
        if t.typ != ItemType::String && t.typ != ItemType::RawString {
            return self.unexpected(&t, CONTEXT);
        }
        let name = match self.unquote(&t.val) {
            Ok(n) => n,
            Err(e) => return self.errorf(e),
        };
        self.expect(ItemType::RightDelim, CONTEXT)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_range = std::mem::take(&mut self.range_depth);
        let (list, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_range;
        if !matches!(end, Parsed::End) {
            return self.errorf(format!("unexpected {} in {CONTEXT}", end.describe()));
        }
        let tree = self.new_tree(&name, list);
        self.add(tree)
    }

    /// textOrAction* up to `{{end}}` or `{{else}}`, which is returned separately.
    fn item_list(&mut self) -> PResult<(ListNode, Parsed)> {
        let mut list = ListNode { nodes: Vec::new() };
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.nodes.push(n),
                other => return Ok((list, other)),
            }
        }
        self.errorf("unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => {
                Ok(Parsed::Node(Node::Text { pos: token.pos, text: token.val.into() }))
            }
            ItemType::LeftDelim => {
                self.action_line = token.line;
                let result = self.action();
                self.action_line = 0;
                result
            }
            _ => self.unexpected(&token, "input"),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        let node = match token.typ {
            ItemType::Block => self.block_control()?,
            ItemType::Break => self.break_control(token, "{{break}}")?,
            ItemType::Continue => self.break_control(token, "{{continue}}")?,
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemType::If => Node::If(self.parse_control(true, "if")?),
            ItemType::Range => Node::Range(self.parse_control(false, "range")?),
            ItemType::Template => self.template_control()?,
            ItemType::With => Node::With(self.parse_control(false, "with")?),
            _ => {
                self.backup();
                let token = self.peek();
                let pipe = self.pipeline("command", ItemType::RightDelim)?;
                Node::Action { pos: token.pos, pipe }
            }
        };
        Ok(Parsed::Node(node))
    }

    fn break_control(&mut self, keyword: Item, what: &str) -> PResult<Node> {
        let t = self.next_non_space();
        if t.typ != ItemType::RightDelim {
            return self.unexpected(&t, what);
        }
        if self.range_depth == 0 {
            return self.errorf(format!("{what} outside {{{{range}}}}"));
        }
        Ok(if keyword.typ == ItemType::Break {
            Node::Break { pos: keyword.pos }
        } else {
            Node::Continue { pos: keyword.pos }
        })
    }

    fn else_control(&mut self) -> PResult<Parsed> {
        let peek = self.peek_non_space();
        if peek.typ == ItemType::If {
            return Ok(Parsed::Else(true));
        }
        self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else(false))
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.errorf("max nesting depth exceeded");
        }
        Ok(())
    }

    fn parse_control(&mut self, allow_else_if: bool, context: &str) -> PResult<Branch> {
        self.enter()?;
        let vars_len = self.vars.len();
        let result = self.parse_control_body(allow_else_if, context);
        self.vars.truncate(vars_len);
        self.depth -= 1;
        result
    }

    fn parse_control_body(&mut self, allow_else_if: bool, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = listed?;
        let else_list = match next {
            Parsed::End => None,
            Parsed::Else(is_if) => {
                if allow_else_if && is_if {
                    // `{{else if x}}` is `{{else}}{{if x}}…{{end}}{{end}}` with one `{{end}}`.
                    self.next();
                    let inner = self.parse_control(true, "if")?;
                    Some(ListNode { nodes: vec![Node::If(inner)] })
                } else {
                    let (else_list, next) = self.item_list()?;
                    if !matches!(next, Parsed::End) {
                        return self.errorf(format!("expected end; found {}", next.describe()));
                    }
                    Some(else_list)
                }
            }
            Parsed::Node(_) => unreachable!("item_list returns only End or Else"),
        };
        Ok(Branch { pos: pipe.pos, pipe, list, else_list })
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_range = std::mem::take(&mut self.range_depth);
        let listed = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_range;
        let (list, end) = listed?;
        if !matches!(end, Parsed::End) {
            return self.errorf(format!("unexpected {} in {CONTEXT}", end.describe()));
        }
        let tree = self.new_tree(&name, list);
        self.add(tree)?;
        Ok(Node::Template { pos: token.pos, name: name.into(), pipe: Some(pipe) })
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, CONTEXT)?;
        let pipe = if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            Some(self.pipeline(CONTEXT, ItemType::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template { pos: token.pos, name: name.into(), pipe })
    }

    fn parse_template_name(&self, token: &Item, context: &str) -> PResult<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => match self.unquote(&token.val) {
                Ok(s) => Ok(s),
                Err(e) => self.errorf(e),
            },
            _ => self.unexpected(token, context),
        }
    }

    // ---- pipelines ----------------------------------------------------------------------------

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let token = self.peek_non_space();
        let mut pipe =
            Pipe { pos: token.pos, is_assign: false, decl: Vec::new(), cmds: Vec::new() };
        self.declarations(&mut pipe, context)?;
        loop {
            let token = self.next_non_space();
            match token.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&token, context),
            }
        }
    }

    /// `$x :=`, `$x =`, and range's `$i, $v :=`.
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> PResult<()> {
        loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                return Ok(());
            }
            self.next();
            let token_after_variable = self.peek();
            let next = self.peek_non_space();
            match next.typ {
                ItemType::Assign | ItemType::Declare => {
                    pipe.is_assign = next.typ == ItemType::Assign;
                    self.next_non_space();
                    pipe.decl.push(VarNode { pos: v.pos, idents: vec![v.val.as_str().into()] });
                    self.vars.push(v.val);
                    return Ok(());
                }
                ItemType::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(VarNode { pos: v.pos, idents: vec![v.val.as_str().into()] });
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().typ {
                            ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                                continue
                            }
                            _ => return self.errorf("range can only initialize variables"),
                        }
                    }
                    return self.errorf(format!("too many declarations in {context}"));
                }
                _ if token_after_variable.typ == ItemType::Space => {
                    self.backup3(v, token_after_variable);
                    return Ok(());
                }
                _ => {
                    self.backup2(v);
                    return Ok(());
                }
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return self.errorf(format!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if c.args[0].is_non_executable() {
                return self.errorf(format!("non executable command in pipeline stage {}", i + 1));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let mut cmd = Command { pos: self.peek_non_space().pos, args: Vec::new() };
        loop {
            self.peek_non_space();
            if let Some(operand) = self.operand()? {
                cmd.args.push(operand);
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return self.unexpected(&token, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.errorf("empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Operand>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ != ItemType::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields: Vec<Arc<str>> = Vec::new();
        while self.peek().typ == ItemType::Field {
            let f = self.next();
            fields.push(f.val[1..].into());
        }
        Ok(Some(match node {
            Operand::Field { mut idents, .. } => {
                idents.extend(fields);
                Operand::Field { pos: chain_pos, idents }
            }
            Operand::Variable(mut v) => {
                v.idents.extend(fields);
                v.pos = chain_pos;
                Operand::Variable(v)
            }
            Operand::Bool(..)
            | Operand::String { .. }
            | Operand::Number(_)
            | Operand::Nil(_)
            | Operand::Dot(_) => {
                return self.errorf(format!(
                    "unexpected . after term {}",
                    gofmt::quote(&node.to_string())
                ));
            }
            other => Operand::Chain { pos: chain_pos, node: Box::new(other), fields },
        }))
    }

    fn term(&mut self) -> PResult<Option<Operand>> {
        let token = self.next_non_space();
        let operand = match token.typ {
            ItemType::Identifier => {
                let Some(callee) = self.funcs.resolve(&token.val) else {
                    return self
                        .errorf(format!("function {} not defined", gofmt::quote(&token.val)));
                };
                Operand::Identifier { pos: token.pos, name: token.val.as_str().into(), callee }
            }
            ItemType::Dot => Operand::Dot(token.pos),
            ItemType::Nil => Operand::Nil(token.pos),
            ItemType::Variable => Operand::Variable(self.use_var(&token)?),
            ItemType::Field => Operand::Field { pos: token.pos, idents: field_idents(&token.val) },
            ItemType::Bool => Operand::Bool(token.pos, token.val == "true"),
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => match number(&token) {
                Ok(n) => Operand::Number(Box::new(n)),
                Err(e) => return self.errorf(e),
            },
            ItemType::LeftParen => {
                self.enter()?;
                let pipe = self.pipeline("parenthesized pipeline", ItemType::RightParen);
                self.depth -= 1;
                Operand::Pipe(Box::new(pipe?))
            }
            ItemType::String | ItemType::RawString => match self.unquote(&token.val) {
                Ok(s) => Operand::String {
                    pos: token.pos,
                    quoted: token.val.as_str().into(),
                    text: s.into(),
                },
                Err(e) => return self.errorf(e),
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(operand))
    }

    fn use_var(&self, token: &Item) -> PResult<VarNode> {
        let idents: Vec<Arc<str>> = token.val.split('.').map(Arc::from).collect();
        if !self.vars.iter().any(|v| **v == *idents[0]) {
            return self.errorf(format!("undefined variable {}", gofmt::quote(&idents[0])));
        }
        Ok(VarNode { pos: token.pos, idents })
    }

    #[allow(dead_code)]
    fn has_function(&self, name: &str) -> bool {
        self.funcs.has(name)
    }
}

fn field_idents(val: &str) -> Vec<Arc<str>> {
    val[1..].split('.').map(Arc::from).collect()
}

/// What `text_or_action` found: a node, or the `{{end}}` / `{{else}}` that closes a list.
enum Parsed {
    Node(Node),
    End,
    /// `{{else}}`; the flag says it is `{{else if …}}` with the `if` still pending.
    Else(bool),
}

impl Parsed {
    fn describe(&self) -> String {
        match self {
            Parsed::Node(n) => n.to_string(),
            Parsed::End => "{{end}}".into(),
            Parsed::Else(_) => "{{else}}".into(),
        }
    }
}

/// Go's `newNumber`: classifies a numeric literal as int, uint, float and/or complex.
fn number(token: &Item) -> Result<NumberNode, String> {
    let text = token.val.as_str();
    let mut n = NumberNode {
        pos: token.pos,
        text: text.into(),
        int: None,
        uint: None,
        float: None,
        complex: None,
    };
    match token.typ {
        ItemType::CharConstant => return char_constant(n, text),
        ItemType::Complex => {
            n.complex = Some(parse_complex(text).ok_or_else(|| strconv::SYNTAX.to_string())?);
            simplify_complex(&mut n);
            return Ok(n);
        }
        _ => {}
    }
    if let Some(imag) = text.strip_suffix('i') {
        if let Some(f) = strconv::parse_float(imag) {
            n.complex = Some((0.0, f));
            simplify_complex(&mut n);
            return Ok(n);
        }
    }
    n.uint = strconv::parse_uint(text);
    n.int = strconv::parse_int(text);
    if n.int == Some(0) {
        n.uint = Some(0);
    }
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Some(f) = strconv::parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", gofmt::quote(text)));
        }
        n.float = Some(f);
        if f.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
            n.int = Some(f as i64);
        }
        if f.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&f) {
            n.uint = Some(f as u64);
        }
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(format!("illegal number syntax: {}", gofmt::quote(text)));
    }
    Ok(n)
}

fn char_constant(mut n: NumberNode, text: &str) -> Result<NumberNode, String> {
    let (ch, tail) = strconv::unquote_char(&text[1..], b'\'').map_err(str::to_string)?;
    if tail != "'" {
        return Err(format!("malformed character constant: {text}"));
    }
    let code = ch.code();
    n.int = Some(i64::from(code));
    n.uint = Some(u64::from(code));
    n.float = Some(f64::from(code));
    Ok(n)
}

fn parse_complex(text: &str) -> Option<(f64, f64)> {
    let body = text.strip_suffix('i')?;
    let split = body.char_indices().skip(1).filter(|&(i, c)| {
        (c == '+' || c == '-') && !matches!(body.as_bytes()[i - 1], b'e' | b'E' | b'p' | b'P')
    });
    let (i, _) = split.last()?;
    Some((strconv::parse_float(&body[..i])?, strconv::parse_float(&body[i..])?))
}

/// A complex constant with zero imaginary part is also a float (and an int if integral).
fn simplify_complex(n: &mut NumberNode) {
    let Some((re, im)) = n.complex else { return };
    if im != 0.0 {
        return;
    }
    n.float = Some(re);
    if re.fract() == 0.0 && re.abs() < 9.2e18 {
        n.int = Some(re as i64);
    }
    if re.fract() == 0.0 && (0.0..1.8e19).contains(&re) {
        n.uint = Some(re as u64);
    }
}
