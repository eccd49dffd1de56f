//! `gotmpl`: Go's `text/template` language in Rust, byte-compatible with Go 1.19 (the version
//! the original confd is built with).
//!
//! ```
//! use gotmpl::{Template, Value};
//! use std::collections::BTreeMap;
//!
//! let tmpl = Template::new("greeting").parse("Hello {{.name}}{{range .xs}} {{.}}{{end}}!").unwrap();
//! let mut data = BTreeMap::new();
//! data.insert("name".into(), Value::from("nginx"));
//! data.insert("xs".into(), Value::string_list(["a", "b"]));
//! assert_eq!(tmpl.execute(&Value::map(data)).unwrap(), "Hello nginx a b!");
//! ```
//!
//! # Theory of operation
//! - [`lex`] turns text into items exactly as Go's lexer does (trim markers, comments, line
//!   counting); [`parse`] builds a tree with Go's grammar and look-ahead, so parse errors name
//!   the same line and token. Function names are resolved at parse time: an unknown function
//!   is a parse error even in a branch that never runs.
//! - [`exec`] walks the tree. It keeps Go's distinction between "no value" (`<no value>`) and a
//!   nil interface (`<nil>`), converts arguments by the function's Go signature, and reports
//!   errors as `template: NAME:LINE:COL: executing "NAME" at <node>: …`.
//! - [`gofmt`] prints values as Go's `fmt` does (`[a b]`, `map[k:v]`, `{k v}`, `1e+21`).
//! - Functions are injected by the caller ([`Function`]) with a Go [`Signature`]; they may
//!   capture shared state, and a panic inside one becomes an error, never a crash.
//! - [`Limits`] make a hostile template an error, never a crash, a hang or an abort for lack of
//!   memory: they bound template recursion and nesting (native stack), the output
//!   (`max_output_bytes`) and every intermediate value (`max_value_bytes`, default
//!   [`DEFAULT_MAX_VALUE_BYTES`]). Values are measured by [`Value::owned_size`] (string bytes
//!   plus [`ELEMENT_OVERHEAD`] per element; parts shared with other values are not charged
//!   again). The builtins that build text write into a buffer that refuses to grow past the
//!   limit, functions can learn it from their [`CallContext`] and refuse early, and the
//!   executor checks every call's result; all of these fail with [`ErrorKind::Limit`].
//!   Go's `fmt` caps widths and precisions near 10^7 and so do we.
//! - The caller stops a running execution through [`Limits::interrupt`]: an [`Interrupt`]
//!   hook polled every [`Interrupt::POLL_INTERVAL`] steps (and sooner when steps move much
//!   data); a stop is an error of kind [`ErrorKind::Interrupted`] carrying the hook's reason.
//!   The engine keeps no clock: time budgets and signals are the caller's.
//!
//! The engine is pure: no threads, no global state, and no I/O but the writer a caller may
//! give [`Template::execute_to`].
#![forbid(unsafe_code)]

mod ast;
mod builtins;
mod error;
mod exec;
mod func;
pub mod gofmt;
mod lex;
mod limits;
mod output;
mod parse;
mod raw_bytes;
mod rval;
mod strconv;
mod value;

use std::collections::HashMap;
use std::sync::Arc;

pub use error::{Error, ErrorKind};
pub use func::{FuncError, Function, Signature};
pub use limits::{CallContext, Interrupt, Limits, TooLarge, DEFAULT_MAX_VALUE_BYTES};
pub use value::{
    List, Map, Object, Struct, StructType, Type, Value, ELEMENT_OVERHEAD, ENTRY_OVERHEAD,
};

/// A function map: name → function.
pub type FuncMap = HashMap<String, Function>;

/// A parsed template set: the named top-level template plus every `define`/`block` in it.
#[derive(Clone, Debug)]
pub struct Template {
    name: Arc<str>,
    funcs: FuncMap,
    trees: HashMap<Arc<str>, Arc<ast::Tree>>,
    limits: Limits,
    /// Some text was parsed from bytes that are not UTF-8.
    raw_bytes: bool,
}

impl Template {
    /// A new, empty template called `name` (the name appears in error messages).
    pub fn new(name: &str) -> Template {
        Template {
            name: name.into(),
            funcs: FuncMap::new(),
            trees: HashMap::new(),
            limits: Limits::default(),
            raw_bytes: false,
        }
    }

    /// Adds functions; they must be added before `parse`, as in Go.
    pub fn funcs(mut self, funcs: impl IntoIterator<Item = (String, Function)>) -> Template {
        self.funcs.extend(funcs);
        self
    }

    /// Adds one function.
    pub fn func(mut self, name: &str, f: Function) -> Template {
        self.funcs.insert(name.to_string(), f);
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn with_limits(mut self, limits: Limits) -> Template {
        self.limits = limits;
        self
    }

    /// Parses `text` as the body of this template (and its definitions).
    pub fn parse(self, text: &str) -> Result<Template, Error> {
        self.parse_text(text, false)
    }

    /// Parses template bytes as Go does, whether or not they are UTF-8: bytes that are not
    /// UTF-8 pass through to the output of [`execute_bytes`](Template::execute_bytes) as they
    /// are (see `raw_bytes.rs` for the one difference, `len` of a raw string literal).
    pub fn parse_bytes(self, bytes: &[u8]) -> Result<Template, Error> {
        let (text, raw) = raw_bytes::decode(bytes);
        self.parse_text(&text, raw)
    }

    fn parse_text(mut self, text: &str, raw_bytes: bool) -> Result<Template, Error> {
        self.raw_bytes |= raw_bytes;
        let scope = parse::FuncScope { user: &self.funcs, raw_bytes: self.raw_bytes };
        let trees = parse::parse(&self.name, text, &scope)?;
        for (name, tree) in trees {
            let keep_old = tree.root.is_empty_tree() && self.trees.contains_key(&name);
            if !keep_old {
                self.trees.insert(name, tree);
            }
        }
        Ok(self)
    }

    /// The names of all templates in the set, sorted.
    pub fn template_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.trees.keys().map(|k| &**k).collect();
        names.sort_unstable();
        names
    }

    pub(crate) fn tree(&self, name: &str) -> Option<&ast::Tree> {
        self.trees.get(name).map(|t| &**t)
    }

    /// Executes the template with `data` as dot and returns the output.
    pub fn execute(&self, data: &Value) -> Result<String, Error> {
        let mut out = String::new();
        self.execute_into(&mut out, data)?;
        Ok(out)
    }

    /// Executes the template and returns the output as bytes: what [`execute`] returns, with
    /// the bytes of a template parsed by [`parse_bytes`] that are not UTF-8 put back.
    ///
    /// [`execute`]: Template::execute
    /// [`parse_bytes`]: Template::parse_bytes
    pub fn execute_bytes(&self, data: &Value) -> Result<Vec<u8>, Error> {
        let out = self.execute(data)?;
        Ok(if self.raw_bytes { raw_bytes::encode(out) } else { out.into_bytes() })
    }

    /// Executes into `out`; on error, `out` holds the partial output, as with Go.
    pub fn execute_into(&self, out: &mut String, data: &Value) -> Result<(), Error> {
        self.execute_template_into(out, &self.name, data)
    }

    /// Executes the template and writes the output to `to` as it is made, in chunks of
    /// 64 KiB: the bytes [`execute_bytes`](Template::execute_bytes) returns, without holding
    /// them all. On error, `to` has had the partial output, as with Go. A write error stops
    /// execution and is returned with [`ErrorKind::Write`] and the writer's message.
    pub fn execute_to(&self, to: &mut dyn std::io::Write, data: &Value) -> Result<(), Error> {
        let mut buffer = String::with_capacity(output::CHUNK + output::CHUNK / 4);
        let mut out = output::Output::to_writer(&mut buffer, to, self.raw_bytes);
        let executed = self.execute_on(&mut out, &self.name, data);
        let flushed = out.flush().map_err(|e| Error::write(&e));
        executed.and(flushed)
    }

    /// Executes the template called `name` from this set.
    pub fn execute_template_into(
        &self,
        out: &mut String,
        name: &str,
        data: &Value,
    ) -> Result<(), Error> {
        self.execute_on(&mut output::Output::in_memory(out), name, data)
    }

    fn execute_on(
        &self,
        out: &mut output::Output<'_>,
        name: &str,
        data: &Value,
    ) -> Result<(), Error> {
        let Some(tree) = self.tree(name) else {
            return Err(Error::exec(format!(
                "template: no template {} associated with template {}",
                gofmt::quote(name),
                gofmt::quote(&self.name)
            )));
        };
        // Go's `Execute(w, nil)` runs with no value at all as dot.
        let data = if matches!(data, Value::Nil) { Value::Missing } else { data.clone() };
        let dot = rval::RVal::plain(data);
        let until_poll = std::cell::Cell::new(Interrupt::POLL_INTERVAL);
        let mut state = exec::State::new(self, tree, out, &until_poll, dot.clone());
        match state.walk_list(&dot, &tree.root) {
            Ok(()) => Ok(()),
            Err(exec::Stop::Err(e)) => Err(e),
            Err(_) => Ok(()),
        }
    }
}
