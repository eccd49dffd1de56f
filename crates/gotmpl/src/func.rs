//! Functions callable from templates: their Go signature (which decides how arguments are
//! converted and which errors Go reports) and the Rust closure behind them.

use std::fmt;
use std::sync::Arc;

use crate::limits::{CallContext, TooLarge};
use crate::value::{Type, Value};

/// The error a template function returns; its text appears after `error calling NAME: `.
/// A function that refuses to build a value over the size limit returns
/// [`FuncError::from(TooLarge)`](TooLarge), which fails the execution with
/// [`ErrorKind::Limit`](crate::ErrorKind::Limit) instead of `Exec`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncError {
    message: String,
    too_large: bool,
}

impl FuncError {
    pub fn new(msg: impl Into<String>) -> FuncError {
        FuncError { message: msg.into(), too_large: false }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the function refused because its result would exceed the value-size limit.
    pub fn is_too_large(&self) -> bool {
        self.too_large
    }
}

impl From<TooLarge> for FuncError {
    fn from(e: TooLarge) -> FuncError {
        FuncError { message: e.to_string(), too_large: true }
    }
}

impl From<String> for FuncError {
    fn from(message: String) -> FuncError {
        FuncError::new(message)
    }
}

impl From<&str> for FuncError {
    fn from(message: &str) -> FuncError {
        FuncError::new(message)
    }
}

impl fmt::Display for FuncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FuncError {}

/// The Go signature of a function: fixed parameters, an optional variadic element type, the
/// result type, and whether it also returns an `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub params: Vec<Type>,
    pub variadic: Option<Type>,
    pub result: Type,
    pub returns_error: bool,
}

impl Signature {
    pub fn new(params: Vec<Type>, result: Type) -> Signature {
        Signature { params, variadic: None, result, returns_error: false }
    }

    /// Makes the function variadic with `...elem` as its last parameter.
    pub fn variadic(mut self, elem: Type) -> Signature {
        self.variadic = Some(elem);
        self
    }

    /// Marks the function as returning `(result, error)`.
    pub fn fallible(mut self) -> Signature {
        self.returns_error = true;
        self
    }

    /// The type of the i-th argument of a call, taking the variadic tail into account.
    pub fn param(&self, i: usize) -> Option<&Type> {
        self.params.get(i).or(self.variadic.as_ref())
    }

    /// Number of parameters as Go's `NumIn` counts them (the variadic slice counts as one).
    pub fn num_in(&self) -> usize {
        self.params.len() + usize::from(self.variadic.is_some())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("func(")?;
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{p}")?;
        }
        if let Some(v) = &self.variadic {
            if !self.params.is_empty() {
                f.write_str(", ")?;
            }
            write!(f, "...{v}")?;
        }
        f.write_str(")")?;
        if self.returns_error {
            write!(f, " ({}, error)", self.result)
        } else {
            write!(f, " {}", self.result)
        }
    }
}

type Callable = dyn Fn(&CallContext, &[Value]) -> Result<Value, FuncError> + Send + Sync;

/// A function value: a signature and the closure that implements it. Closures may capture
/// shared state (an `Arc` of a key store, say); they receive arguments already converted to
/// the parameter types, the variadic ones flattened at the end.
#[derive(Clone)]
pub struct Function {
    sig: Arc<Signature>,
    imp: Arc<Callable>,
}

impl Function {
    pub fn new<F>(sig: Signature, imp: F) -> Function
    where
        F: Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    {
        Function::with_context(sig, move |_, args| imp(args))
    }

    /// A function that also receives the [`CallContext`] of the execution calling it: what a
    /// function that can build large values needs to refuse before it allocates more than
    /// [`Limits::max_value_bytes`](crate::Limits::max_value_bytes).
    pub fn with_context<F>(sig: Signature, imp: F) -> Function
    where
        F: Fn(&CallContext, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
    {
        Function { sig: Arc::new(sig), imp: Arc::new(imp) }
    }

    pub fn signature(&self) -> &Arc<Signature> {
        &self.sig
    }

    /// Calls the function with the default [`CallContext`].
    pub fn call(&self, args: &[Value]) -> Result<Value, FuncError> {
        self.call_in(&CallContext::default(), args)
    }

    /// Calls the function; a panic inside it becomes an error carrying the panic message, as
    /// Go's template engine recovers panics in functions.
    pub fn call_in(&self, ctx: &CallContext, args: &[Value]) -> Result<Value, FuncError> {
        let imp = &self.imp;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| imp(ctx, args))) {
            Ok(result) => result,
            Err(payload) => Err(FuncError::new(panic_message(payload.as_ref()))),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic in template function".to_string()
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({})", self.sig)
    }
}
