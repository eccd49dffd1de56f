//! The executor's view of a value: the value plus whether its static type is `interface {}`
//! (Go's `reflect.Value` of kind Interface). Go names that static type in some errors
//! (`can't evaluate field x in type interface {}`) and unwraps it at the end of a pipeline.

use crate::value::{Type, Value};

#[derive(Clone, Debug, Default)]
pub struct RVal {
    pub v: Value,
    pub boxed: bool,
}

impl RVal {
    pub fn plain(v: Value) -> RVal {
        RVal { v, boxed: false }
    }

    /// An element read from a container (or returned by a function) whose static type is `ty`.
    pub fn elem(v: Value, ty: &Type) -> RVal {
        RVal { boxed: matches!(ty, Type::Any), v }
    }

    pub fn missing() -> RVal {
        RVal::default()
    }

    /// The name of the static type, as Go's `receiver.Type()` prints it.
    pub fn static_type(&self) -> String {
        if self.boxed || matches!(self.v, Value::Nil) {
            "interface {}".to_string()
        } else {
            self.v.type_name()
        }
    }

    /// What a pipeline yields: the concrete value, a nil interface becoming no value.
    pub fn unbox(self) -> RVal {
        match self.v {
            Value::Nil if self.boxed => RVal::missing(),
            v => RVal::plain(v),
        }
    }
}
