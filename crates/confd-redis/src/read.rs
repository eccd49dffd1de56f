//! confd's read of a list of keys (its `GetValues`) over one connection.
//!
//! For each key, `TYPE` decides: a string is the value of the key itself, a hash gives one
//! entry per field (`<key>/<field>`), and anything else (nothing, or a list, set...) means
//! "the keys under it": SCAN with `MATCH <key><sep>*`, then the string values of what was found
//! (MGET in batches; keys that are not strings, or are gone by then, are left out).

use std::collections::{BTreeMap, BTreeSet};

use redis::Connection;

use crate::keys::{KeyMap, Wanted};
use crate::RedisError;

/// Asked of SCAN and HSCAN per round trip, and keys per MGET.
const BATCH: usize = 1000;

/// Reads `keys` into one map (later keys win where results overlap, as in confd).
pub(crate) fn read_keys(
    con: &mut Connection,
    node: &str,
    map: &KeyMap,
    keys: &[String],
) -> Result<BTreeMap<String, String>, RedisError> {
    let mut out = BTreeMap::new();
    for key in keys {
        let wanted = map.wanted(key);
        let mut r = Reader { con: &mut *con, node, map, out: &mut out };
        r.read(&wanted)?;
    }
    Ok(out)
}

struct Reader<'a> {
    con: &'a mut Connection,
    node: &'a str,
    map: &'a KeyMap,
    out: &'a mut BTreeMap<String, String>,
}

impl Reader<'_> {
    fn read(&mut self, w: &Wanted) -> Result<(), RedisError> {
        let kind: String = self.query(redis::cmd("TYPE").arg(&w.redis), "TYPE", &w.redis)?;
        match kind.as_str() {
            "string" => self.string(w),
            "hash" => self.hash(w),
            _ => self.under(w),
        }
    }

    fn string(&mut self, w: &Wanted) -> Result<(), RedisError> {
        match self.query::<Option<Vec<u8>>>(redis::cmd("GET").arg(&w.redis), "GET", &w.redis) {
            Ok(Some(value)) => {
                self.out.insert(w.key.clone(), lossy(value));
                Ok(())
            }
            // Deleted, or replaced by another type, since TYPE.
            Ok(None) => Ok(()),
            Err(RedisError::Command { source, .. }) if source.code() == Some("WRONGTYPE") => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn hash(&mut self, w: &Wanted) -> Result<(), RedisError> {
        let mut cursor = 0u64;
        loop {
            let mut cmd = redis::cmd("HSCAN");
            cmd.arg(&w.redis).arg(cursor).arg("COUNT").arg(BATCH);
            let (next, flat): (u64, Vec<Vec<u8>>) = self.query(&cmd, "HSCAN", &w.redis)?;
            for pair in flat.chunks_exact(2) {
                let key = self.map.hash_field(&w.redis, &pair[0]);
                self.out.insert(key, String::from_utf8_lossy(&pair[1]).into_owned());
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    fn under(&mut self, w: &Wanted) -> Result<(), RedisError> {
        let pattern = self.map.scan_pattern(w);
        // SCAN may return a key more than once; the set also sorts them.
        let mut found = BTreeSet::new();
        let mut cursor = 0u64;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(BATCH);
            let (next, keys): (u64, Vec<Vec<u8>>) = self.query(&cmd, "SCAN", &pattern)?;
            found.extend(keys);
            if next == 0 {
                break;
            }
            cursor = next;
        }
        let found: Vec<Vec<u8>> = found.into_iter().collect();
        for batch in found.chunks(BATCH) {
            // MGET answers nil for a key that is gone or holds no string.
            let values: Vec<Option<Vec<u8>>> =
                self.query(redis::cmd("MGET").arg(batch), "MGET", &pattern)?;
            for (key, value) in batch.iter().zip(values) {
                if let Some(value) = value {
                    self.out.insert(self.map.to_confd(key), lossy(value));
                }
            }
        }
        Ok(())
    }

    fn query<T: redis::FromRedisValue>(
        &mut self,
        cmd: &redis::Cmd,
        name: &'static str,
        key: &str,
    ) -> Result<T, RedisError> {
        cmd.query(self.con)
            .map_err(|e| RedisError::from_command(self.node, name, key.as_bytes(), e))
    }
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
