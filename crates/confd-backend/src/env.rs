//! confd's `env` backend: environment variables as keys.
//!
//! For a requested key such as `/database/host`, the variable-name prefix is the key without
//! its first `/`, with every `/` turned into `_`, upper-cased: `DATABASE_HOST`. Every variable
//! whose name **starts with** that prefix is returned, under the key `/` + its name
//! lower-cased with every `_` turned into `/`: `DATABASE_HOST` → `/database/host`, and
//! `DATABASE_HOSTNAME` → `/database/hostname` as well. Underscores therefore always become path
//! separators (`MY_APP_PORT` is `/my/app/port`, never `/my_app/port`). The key `/` (or `""`)
//! returns every variable.
//!
//! confd's env backend never signals a change in watch mode; that is the caller's business.
//!
//! Deliberate difference: when two variables map to the same key (`DATABASE_X` and
//! `DATABASE_x` both give `/database/x`), confd's pick depends on Go's random map order; here
//! the variable whose name sorts last wins.

use std::collections::BTreeMap;

/// The values confd's env backend returns for `keys`, read from `env` (name, value) pairs —
/// pass [`process_env`] for the real environment. Later pairs with the same name win, as in
/// Go's `os.Environ` handling.
pub fn values<I>(keys: &[String], env: I) -> BTreeMap<String, String>
where
    I: IntoIterator<Item = (String, String)>,
{
    let env: BTreeMap<String, String> = env.into_iter().collect();
    let mut out = BTreeMap::new();
    for key in keys {
        let prefix = var_prefix(key);
        for (name, value) in env.range(prefix.clone()..) {
            if !name.starts_with(&prefix) {
                break;
            }
            out.insert(key_for_var(name), value.clone());
        }
    }
    out
}

/// The variable-name prefix for a key: `/database/host` → `DATABASE_HOST`.
pub fn var_prefix(key: &str) -> String {
    let key = key.strip_prefix('/').unwrap_or(key);
    go_to_upper(&key.replace('/', "_"))
}

/// The key for a variable name: `DATABASE_HOST` → `/database/host`.
pub fn key_for_var(name: &str) -> String {
    go_to_lower(&format!("/{name}")).replace('_', "/")
}

/// The process environment as UTF-8 (name, value) pairs; variables whose name or value is not
/// UTF-8 are skipped.
pub fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
}

/// Go's `strings.ToUpper`: per-character simple case mapping (a character whose upper case is
/// several characters, like `ß`, is left alone, as Go does).
fn go_to_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut up = c.to_uppercase();
            match (up.next(), up.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// Go's `strings.ToLower`: per-character simple case mapping (`İ` becomes `i`, as in Go).
fn go_to_lower(s: &str) -> String {
    s.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn keys(ks: &[&str]) -> Vec<String> {
        ks.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn key_to_prefix_and_back() {
        assert_eq!(var_prefix("/database/host"), "DATABASE_HOST");
        assert_eq!(var_prefix("database/host"), "DATABASE_HOST");
        assert_eq!(var_prefix("//a"), "_A");
        assert_eq!(var_prefix("/"), "");
        assert_eq!(var_prefix("/my-app/Port"), "MY-APP_PORT");
        assert_eq!(key_for_var("DATABASE_HOST"), "/database/host");
        assert_eq!(key_for_var("MY_APP_PORT"), "/my/app/port");
        assert_eq!(key_for_var("Foo__Bar"), "/foo//bar");
        assert_eq!(go_to_upper("straße"), "STRAßE");
        assert_eq!(go_to_lower("İX"), "ix");
    }

    #[test]
    fn prefix_matching_returns_longer_names_too() {
        let e = env(&[
            ("DATABASE_HOST", "127.0.0.1"),
            ("DATABASE_HOSTNAME", "db.local"),
            ("DATABASE_PORT", "3306"),
            ("DATABASEX", "x"),
            ("database_host", "lower"),
            ("PATH", "/usr/bin"),
        ]);
        let got = values(&keys(&["/database/host"]), e.clone());
        let want: BTreeMap<String, String> =
            [("/database/host", "127.0.0.1"), ("/database/hostname", "db.local")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(got, want);

        let got = values(&keys(&["/database"]), e.clone());
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            ["/database/host", "/database/hostname", "/database/port", "/databasex"]
        );
        // "/" and "" mean every variable.
        assert_eq!(values(&keys(&["/"]), e.clone()).len(), 5);
        assert!(values(&keys(&["/nothing"]), e).is_empty());
    }

    #[test]
    fn later_duplicate_names_and_colliding_keys() {
        let e = env(&[("A_B", "1"), ("A_B", "2"), ("A_b", "3")]);
        let got = values(&keys(&["/a"]), e);
        // "A_B" (last value 2) and "A_b" both map to /a/b: the name sorting last wins.
        assert_eq!(got.len(), 1);
        assert_eq!(got["/a/b"], "3");
    }

    #[test]
    fn confd_integration_env_data_set() {
        // The variables of confd's integration/env/test.sh.
        let e = env(&[
            ("HOSTNAME", "localhost"),
            ("KEY", "foobar"),
            ("DATABASE_HOST", "127.0.0.1"),
            ("DATABASE_PASSWORD", "p@sSw0rd"),
            ("DATABASE_PORT", "3306"),
            ("DATABASE_USERNAME", "confd"),
            ("UPSTREAM_APP1", "10.0.1.10:8080"),
            ("UPSTREAM_APP2", "10.0.1.11:8080"),
            ("PREFIX_DATABASE_HOST", "127.0.0.1"),
        ]);
        let basic = values(
            &keys(&[
                "/database/host",
                "/database/password",
                "/database/port",
                "/database/username",
            ]),
            e.clone(),
        );
        assert_eq!(basic.len(), 4);
        assert_eq!(basic["/database/password"], "p@sSw0rd");
        assert_eq!(basic["/database/port"], "3306");
        let exists = values(&keys(&["/key"]), e.clone());
        assert_eq!(exists.len(), 1);
        assert_eq!(exists["/key"], "foobar");
        let iteration = values(&keys(&["/upstream"]), e);
        assert_eq!(
            iteration.into_iter().collect::<Vec<_>>(),
            [
                ("/upstream/app1".to_string(), "10.0.1.10:8080".to_string()),
                ("/upstream/app2".to_string(), "10.0.1.11:8080".to_string()),
            ]
        );
    }

    #[test]
    fn process_env_is_readable() {
        // Only checks the adapter: PATH is set in any sane test environment.
        assert!(process_env().any(|(k, _)| k == "PATH"));
    }
}
