//! confd-register's Docker Engine API reader: arbitrary bytes as what the engine's socket
//! answers, read both as one answer (head and body: by length, chunked or to the end) and as
//! the `/events` stream (chunks of newline-separated JSON). Any panic, hang or runaway
//! allocation is a bug: a broken or hostile answer must end in an error.
#![no_main]

use confd_register::docker::engine::{event_stream, read_answer, Next};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_answer(data);
    if let Ok(mut events) = event_stream(data) {
        // Every call consumes input or ends the stream; the bound only keeps a bug from
        // looking like a hang.
        for _ in 0..=data.len() {
            match events.next_event() {
                Ok(Next::Event(_)) => {}
                Ok(Next::End | Next::Idle) | Err(_) => break,
            }
        }
    }
});
