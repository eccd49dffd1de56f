//! Safety limits of an execution: how deep templates may call each other and nest, how much
//! output and how large a value they may produce, and the caller's hook to stop a running
//! execution. The engine has no clock and no threads, so a time budget or a signal reaches it
//! only through [`Interrupt`].

use std::fmt;
use std::sync::Arc;

/// The default [`Limits::max_value_bytes`]: 64 MiB. Large enough for any configuration file
/// we know of, small enough that a handful of such values in flight stay far from exhausting
/// a daemon's memory.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 64 << 20;

/// Safety limits for execution.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Nested `{{template}}` calls allowed (Go allows 100000; each level costs native stack
    /// here, so the default is lower).
    pub max_template_depth: usize,
    /// Nested lists being executed (bodies of `if`/`with`/`range` and called templates,
    /// across template calls). Bounds native stack use: with the defaults, execution fits in
    /// a 2 MiB stack in optimised builds (tested) and needs up to 4 MiB unoptimised.
    pub max_nesting: usize,
    /// Bytes of output after which execution fails.
    pub max_output_bytes: usize,
    /// The largest value a function or builtin may return, measured by
    /// [`Value::owned_size`](crate::Value::owned_size) (string bytes plus a per-element
    /// overhead for lists, maps and structs). The builtins that build text (`print`, `printf`,
    /// `println`, `html`, `js`, `urlquery`) stop *before* allocating more; functions that can
    /// build large values read the limit from their [`CallContext`] and should refuse early
    /// too; the executor checks every result after the call, whatever the function did.
    /// Exceeding it fails the execution with [`ErrorKind::Limit`](crate::ErrorKind::Limit).
    /// Default: [`DEFAULT_MAX_VALUE_BYTES`].
    pub max_value_bytes: usize,
    /// Asked every few hundred steps whether to stop; see [`Interrupt`]. Default: none.
    pub interrupt: Option<Interrupt>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_template_depth: 1000,
            max_nesting: 1500,
            max_output_bytes: 256 << 20,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            interrupt: None,
        }
    }
}

type Check = dyn Fn() -> Option<String> + Send + Sync;

/// The caller's way to stop a running execution, for a time budget or a shutdown signal.
///
/// The executor calls the hook after about every [`Interrupt::POLL_INTERVAL`] steps. A step
/// is a range iteration, a command (every action, condition and call has one) or a template
/// call, so no loop runs unpolled; a function call or a write also counts one step per KiB it
/// handled, so steps that move much data poll sooner.
/// When the hook returns a reason, execution stops with
/// [`ErrorKind::Interrupted`](crate::ErrorKind::Interrupted) and the message
/// `template: NAME:LINE:COL: executing "NAME" at <…>: execution interrupted: REASON`; the
/// output written so far is kept, as with any execution error.
///
/// The hook should be cheap (an atomic load, a clock reading). It runs on the executing
/// thread.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use gotmpl::{ErrorKind, Interrupt, Limits, Template, Value};
///
/// let stop = Arc::new(AtomicBool::new(true)); // e.g. set by a signal handler
/// let flag = stop.clone();
/// let interrupt = Interrupt::new(move || flag.load(Ordering::Relaxed).then(|| "SIGTERM".into()));
/// let limits = Limits { interrupt: Some(interrupt), ..Limits::default() };
/// let t = Template::new("t").with_limits(limits).parse("{{range .}}{{.}}{{end}}").unwrap();
/// let err = t.execute(&Value::list((0..100_000).map(Value::Int).collect())).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Interrupted);
/// assert!(err.to_string().ends_with("execution interrupted: SIGTERM"), "{err}");
/// ```
#[derive(Clone)]
pub struct Interrupt(Arc<Check>);

impl Interrupt {
    /// Steps between two calls of the hook.
    pub const POLL_INTERVAL: u32 = 256;

    /// An interrupt that asks `check`: `None` to go on, `Some(reason)` to stop.
    pub fn new(check: impl Fn() -> Option<String> + Send + Sync + 'static) -> Interrupt {
        Interrupt(Arc::new(check))
    }

    /// Calls the hook.
    pub fn check(&self) -> Option<String> {
        (self.0)()
    }
}

impl fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Interrupt(..)")
    }
}

/// What a function may know about the execution calling it: for now, the value-size limit
/// it should respect (see [`Function::with_context`](crate::Function::with_context)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallContext {
    max_value_bytes: usize,
}

impl CallContext {
    pub fn new(max_value_bytes: usize) -> CallContext {
        CallContext { max_value_bytes }
    }

    /// The largest value the function may return, in the measure of
    /// [`Value::owned_size`](crate::Value::owned_size).
    pub fn max_value_bytes(&self) -> usize {
        self.max_value_bytes
    }

    /// Refuses a value of `bytes` bytes if it exceeds the limit. Call it with the size of the
    /// result computed *before* building it.
    pub fn check_size(&self, bytes: usize) -> Result<(), TooLarge> {
        if bytes > self.max_value_bytes {
            return Err(TooLarge { size: Some(bytes), limit: self.max_value_bytes });
        }
        Ok(())
    }

    /// Refuses a list of `elements` fresh elements holding `string_bytes` bytes of strings
    /// in all, as [`Value::owned_size`](crate::Value::owned_size) would measure it.
    pub fn check_list(&self, elements: usize, string_bytes: usize) -> Result<(), TooLarge> {
        let overhead = elements.saturating_mul(crate::value::ELEMENT_OVERHEAD);
        self.check_size(overhead.saturating_add(string_bytes))
    }
}

impl Default for CallContext {
    fn default() -> CallContext {
        CallContext::new(DEFAULT_MAX_VALUE_BYTES)
    }
}

/// A value that would exceed [`Limits::max_value_bytes`]. `size` is its size when known (a
/// writer that stops at the limit does not learn the full size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge {
    pub size: Option<usize>,
    pub limit: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.size {
            Some(size) => {
                write!(f, "value of {size} bytes exceeds the limit of {} bytes", self.limit)
            }
            None => write!(f, "value exceeds the limit of {} bytes", self.limit),
        }
    }
}

impl std::error::Error for TooLarge {}
