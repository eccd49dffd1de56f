//! The server setting a watch depends on: `notify-keyspace-events`.
//!
//! A watch hears of changes through keyspace notifications (`__keyspace@<db>__:<key>`), which
//! redis only publishes for the event classes named in `notify-keyspace-events`. The watch
//! needs `K` (keyspace channels) and the classes of every way a string or hash key can change
//! or go away: `g` (DEL, RENAME, EXPIRE, COPY, RESTORE...), `$` (SET, APPEND, INCR...), `h`
//! (HSET, HDEL...) and `x` (expired). `A` stands for all classes. Evictions (`e`) are left
//! out: a configuration store is not run with an evicting `maxmemory-policy`.
//!
//! What no setting can give: FLUSHDB, FLUSHALL and SWAPDB publish no keyspace event, so a
//! watch does not see them; their effect shows at the next read, after the next change it
//! does see.

/// Event classes needed besides `K`, in the order [`suggest`] adds them.
const CLASSES: [char; 4] = ['$', 'g', 'h', 'x'];

/// The flags `have` lacks for a watch (`K` first), empty when it is enough.
pub(crate) fn missing(have: &str) -> Vec<char> {
    let mut out = Vec::new();
    if !have.contains('K') {
        out.push('K');
    }
    if !have.contains('A') {
        out.extend(CLASSES.iter().filter(|c| !have.contains(**c)));
    }
    out
}

/// The value to set: `have` with what is missing added (`K$ghx` when nothing is set).
pub(crate) fn suggest(have: &str) -> String {
    let mut out = have.to_string();
    out.extend(missing(have));
    out
}

/// Reads the setting on `con`: `Ok(Some(value))`, or `Ok(None)` when the server refuses
/// `CONFIG GET` (an ACL user without `+config`, a renamed command) and the setting cannot be
/// checked. Connection failures and `NOAUTH` are errors.
pub(crate) fn read(
    con: &mut redis::Connection,
    node: &str,
) -> Result<Option<String>, crate::RedisError> {
    const NAME: &str = "notify-keyspace-events";
    let answer = redis::cmd("CONFIG").arg("GET").arg(NAME).query::<Vec<String>>(con);
    match answer {
        // [name, value] (RESP2); nothing when the server does not know the parameter.
        Ok(pair) => Ok(Some(pair.get(1).cloned().unwrap_or_default())),
        Err(e) => match crate::RedisError::from_command(node, "CONFIG GET", NAME.as_bytes(), e) {
            crate::RedisError::Command { .. } => Ok(None),
            other => Err(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_enough() {
        for ok in ["AK", "KA", "K$ghx", "Kg$lshzxetd", "AKE", "$ghxK"] {
            assert!(missing(ok).is_empty(), "{ok}");
        }
        assert_eq!(missing(""), ['K', '$', 'g', 'h', 'x']);
        assert_eq!(missing("AE"), ['K']);
        assert_eq!(missing("K$"), ['g', 'h', 'x']);
        assert_eq!(missing("Ex"), ['K', '$', 'g', 'h']);
    }

    #[test]
    fn the_suggestion_keeps_what_is_set() {
        assert_eq!(suggest(""), "K$ghx");
        assert_eq!(suggest("Ex"), "ExK$gh");
        assert_eq!(suggest("AE"), "AEK");
        assert!(missing(&suggest("lz")).is_empty());
    }
}
