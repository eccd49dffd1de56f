//! The parse tree. Node positions are byte offsets into the template text; `Display` renders a
//! node the way Go's `Node.String` does, because execution errors quote it (`at <.x.y>`).

use std::fmt::{self, Display, Formatter, Write};
use std::sync::Arc;

use crate::builtins::Builtin;
use crate::func::Function;
use crate::gofmt;

pub type Pos = usize;

/// One parsed template (the top level or a `define`/`block`).
#[derive(Debug)]
pub struct Tree {
    pub name: Arc<str>,
    /// The name of the template whose text this tree was parsed from (used in error locations).
    pub parse_name: Arc<str>,
    pub text: Arc<str>,
    pub root: ListNode,
}

impl Tree {
    /// `NAME:LINE:COL` of a byte offset, as Go's `ErrorContext` computes it (column 0-based
    /// in bytes).
    pub fn location(&self, pos: Pos) -> String {
        let before = &self.text[..pos.min(self.text.len())];
        let col = match before.rfind('\n') {
            Some(nl) => pos - (nl + 1),
            None => pos,
        };
        let line = 1 + before.matches('\n').count();
        format!("{}:{}:{}", self.parse_name, line, col)
    }
}

#[derive(Debug, Default)]
pub struct ListNode {
    pub nodes: Vec<Node>,
}

impl ListNode {
    /// Go's `IsEmptyTree`: only whitespace text (and comments).
    pub fn is_empty_tree(&self) -> bool {
        self.nodes.iter().all(|n| match n {
            Node::Text { text, .. } => text.trim_matches(|c: char| c.is_whitespace()).is_empty(),
            _ => false,
        })
    }
}

#[derive(Debug)]
pub enum Node {
    Text { pos: Pos, text: Arc<str> },
    Action { pos: Pos, pipe: Pipe },
    If(Branch),
    Range(Branch),
    With(Branch),
    Template { pos: Pos, name: Arc<str>, pipe: Option<Pipe> },
    Break { pos: Pos },
    Continue { pos: Pos },
}

#[derive(Debug)]
pub struct Branch {
    pub pos: Pos,
    pub pipe: Pipe,
    pub list: ListNode,
    pub else_list: Option<ListNode>,
}

#[derive(Debug)]
pub struct Pipe {
    pub pos: Pos,
    pub is_assign: bool,
    pub decl: Vec<VarNode>,
    pub cmds: Vec<Command>,
}

/// `$x` or `$x.Field.Field`.
#[derive(Debug, Clone)]
pub struct VarNode {
    pub pos: Pos,
    pub idents: Vec<Arc<str>>,
}

#[derive(Debug)]
pub struct Command {
    pub pos: Pos,
    pub args: Vec<Operand>,
}

/// What a function identifier resolved to at parse time.
#[derive(Debug, Clone)]
pub enum Callee {
    Builtin(Builtin),
    User(Function),
}

#[derive(Debug)]
pub struct NumberNode {
    pub pos: Pos,
    pub text: Arc<str>,
    pub int: Option<i64>,
    pub uint: Option<u64>,
    pub float: Option<f64>,
    pub complex: Option<(f64, f64)>,
}

#[derive(Debug)]
pub enum Operand {
    Field { pos: Pos, idents: Vec<Arc<str>> },
    Variable(VarNode),
    Identifier { pos: Pos, name: Arc<str>, callee: Callee },
    Dot(Pos),
    Nil(Pos),
    Bool(Pos, bool),
    Number(Box<NumberNode>),
    String { pos: Pos, quoted: Arc<str>, text: Arc<str> },
    Pipe(Box<Pipe>),
    Chain { pos: Pos, node: Box<Operand>, fields: Vec<Arc<str>> },
}

impl Operand {
    pub fn pos(&self) -> Pos {
        match self {
            Operand::Field { pos, .. }
            | Operand::Identifier { pos, .. }
            | Operand::Dot(pos)
            | Operand::Nil(pos)
            | Operand::Bool(pos, _)
            | Operand::String { pos, .. }
            | Operand::Chain { pos, .. } => *pos,
            Operand::Variable(v) => v.pos,
            Operand::Number(n) => n.pos,
            Operand::Pipe(p) => p.pos,
        }
    }

    /// Literal operands that cannot start a later pipeline stage (Go's checkPipeline).
    pub fn is_non_executable(&self) -> bool {
        matches!(
            self,
            Operand::Bool(..)
                | Operand::Dot(_)
                | Operand::Nil(_)
                | Operand::Number(_)
                | Operand::String { .. }
        )
    }
}

fn write_idents(f: &mut Formatter<'_>, idents: &[Arc<str>], sep_first: bool) -> fmt::Result {
    for (i, id) in idents.iter().enumerate() {
        if i > 0 || sep_first {
            f.write_char('.')?;
        }
        f.write_str(id)?;
    }
    Ok(())
}

impl Display for VarNode {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_idents(f, &self.idents, false)
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Field { idents, .. } => write_idents(f, idents, true),
            Operand::Variable(v) => v.fmt(f),
            Operand::Identifier { name, .. } => f.write_str(name),
            Operand::Dot(_) => f.write_str("."),
            Operand::Nil(_) => f.write_str("nil"),
            Operand::Bool(_, b) => write!(f, "{b}"),
            Operand::Number(n) => f.write_str(&n.text),
            Operand::String { quoted, .. } => f.write_str(quoted),
            Operand::Pipe(p) => p.fmt(f),
            Operand::Chain { node, fields, .. } => {
                if let Operand::Pipe(p) = node.as_ref() {
                    write!(f, "({p})")?;
                } else {
                    node.fmt(f)?;
                }
                write_idents(f, fields, true)
            }
        }
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            match arg {
                Operand::Pipe(p) => write!(f, "({p})")?,
                _ => arg.fmt(f)?,
            }
        }
        Ok(())
    }
}

impl Display for Pipe {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, v) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                v.fmt(f)?;
            }
            f.write_str(" := ")?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for ListNode {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.nodes.iter().try_for_each(|n| n.fmt(f))
    }
}

impl Display for Node {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Node::Text { text, .. } => f.write_str(text),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(b) => write_branch(f, "if", b),
            Node::Range(b) => write_branch(f, "range", b),
            Node::With(b) => write_branch(f, "with", b),
            Node::Template { name, pipe, .. } => {
                write!(f, "{{{{template {}", gofmt::quote(name))?;
                if let Some(p) = pipe {
                    write!(f, " {p}")?;
                }
                f.write_str("}}")
            }
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}

fn write_branch(f: &mut Formatter<'_>, name: &str, b: &Branch) -> fmt::Result {
    write!(f, "{{{{{name} {}}}}}{}", b.pipe, b.list)?;
    if let Some(e) = &b.else_list {
        write!(f, "{{{{else}}}}{e}")?;
    }
    f.write_str("{{end}}")
}
