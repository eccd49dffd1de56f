//! Values that are safe by construction, for templates that render configuration syntax.
//!
//! Whoever may write a prefix in the store may be hostile or simply wrong. A value pasted
//! into `server {{.}};` can close the block and open a new `server`, so these functions
//! check a value against the one context it is meant for and return it only when it is
//! valid there; otherwise the entry is left out of the result and recorded as a
//! [`Rejection`] for the caller to log. A bad entry therefore costs only itself: the other
//! entries still render, and the rendered file still passes its check.
//!
//! | function | valid values |
//! |---|---|
//! | `addr` | `host:port`: an IPv4 address, a bracketed IPv6 address or a host name that resolves now, and a port 1–65535 (nginx resolves names when it loads its configuration, and one that does not resolve would fail the whole file) |
//! | `ipAddr` | `IP:PORT`: an IPv4 address or a bracketed IPv6 address (no host names: for peers a server connects to without resolving, such as a membership document's) and a port 1–65535 |
//! | `serverNames` | one or more host names separated by spaces, each optionally `*.name`, `.name` or `name.*`; a name already claimed by an earlier entry in this render is left out of later ones |
//! | `token` | a bare name of letters, digits, `.`, `_` and `-` (not `.` or `..`, at most 128 bytes), e.g. an upstream name; nginx compares upstream names without case, so a name equal to an earlier, different one but for case is left out |
//! | `globEscape` | any string: returns it with `*`, `?`, `[` and `\` escaped, so that it matches itself literally inside a `gets`/`getvs` pattern |
//!
//! Each checking function takes a string, a `memkv.KVPair` (from `get`), or a list of either
//! (from `getvs`, `gets`, `ls`). Given one entry it returns the (normalised) value or `""`,
//! so `{{with addr .}}` skips a bad one; given a list it returns a `[]string` of the valid
//! values, in the order given. When the entry is a `KVPair` the rejection names its key.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use gotmpl::Value;

use super::Host;

/// The longest bare token.
pub const MAX_TOKEN: usize = 128;

/// The context a value was checked for: one per checking function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    /// `addr`: `host:port`.
    Address,
    /// `ipAddr`: `IP:PORT`.
    IpAddress,
    /// `serverNames`: a list of server names.
    ServerNames,
    /// `token`: a bare name.
    Token,
}

impl Context {
    /// The template function that checks for this context.
    pub fn function(self) -> &'static str {
        match self {
            Context::Address => "addr",
            Context::IpAddress => "ipAddr",
            Context::ServerNames => "serverNames",
            Context::Token => "token",
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Context::Address => "a host:port address",
            Context::IpAddress => "an IP:PORT address",
            Context::ServerNames => "a list of server names",
            Context::Token => "a bare name (letters, digits, '.', '_', '-')",
        }
    }
}

/// Why a value is not valid in its context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// The whole value has the wrong form.
    Form,
    /// One server name of the list is not a host name (the list is left out whole).
    ServerName(String),
    /// The host name of an address does not resolve.
    Unresolved(String),
    /// A host name where only an IP address will do.
    NotIp(String),
}

/// An entry a checking function left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub context: Context,
    /// The entry's key, when the template passed a `KVPair`.
    pub key: Option<Arc<str>>,
    pub value: Arc<str>,
    pub reason: Reason,
}

/// What was wrong with a rejected entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    Invalid(Invalid),
    /// This name is already taken by the entry `owner` (its key, or its value when it had no
    /// key): for `serverNames` the rest of the entry is kept; a `token` is left out.
    NameClaimed {
        name: String,
        owner: Arc<str>,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(key) => write!(f, "key {key}: value {}", shown(&self.value))?,
            None => write!(f, "value {}", shown(&self.value))?,
        }
        match &self.reason {
            Reason::Invalid(Invalid::Form) => {
                write!(f, " is not {}; left out", self.context.expected())?
            }
            Reason::Invalid(Invalid::Unresolved(host)) => {
                write!(f, ": the host name {} does not resolve; left out", shown(host))?
            }
            Reason::Invalid(Invalid::NotIp(host)) => write!(
                f,
                ": the host {} is a name, and only an IP address is valid here; left out",
                shown(host)
            )?,
            Reason::Invalid(Invalid::ServerName(name)) => {
                write!(f, " has {} which is not a server name; left out", shown(name))?
            }
            Reason::NameClaimed { name, owner } if self.context == Context::ServerNames => {
                write!(f, " claims server name {name}, which {owner} already has; name left out")?
            }
            Reason::NameClaimed { name, owner } => {
                write!(f, " clashes with {owner} (names differing only in case: {name}); left out")?
            }
        }
        write!(f, " ({})", self.context.function())
    }
}

/// How a value appears in a message: Go-quoted, cut after 80 bytes with its length, so that a
/// megabyte of garbage or a newline cannot flood or forge log lines.
fn shown(value: &str) -> String {
    const MAX_SHOWN: usize = 80;
    if value.len() <= MAX_SHOWN {
        return gotmpl::gofmt::quote(value);
    }
    let mut cut = MAX_SHOWN;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", gotmpl::gofmt::quote(&value[..cut]), value.len())
}

/// The rejections of one render, shared by the functions of one function map.
#[derive(Clone, Debug, Default)]
pub struct Rejections(Arc<Mutex<Vec<Rejection>>>);

impl Rejections {
    pub fn new() -> Rejections {
        Rejections::default()
    }

    fn push(&self, rejection: Rejection) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(rejection);
    }

    /// Takes the rejections recorded so far, in the order they happened.
    pub fn take(&self) -> Vec<Rejection> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

// ---- the checks -------------------------------------------------------------------------

/// Whether `value` is `host:port` with a valid host and port ([`confd_values::address`]: the
/// rule confd-register writes by).
pub fn check_address(value: &str) -> Result<(), Invalid> {
    confd_values::address(value).map(|_| ()).map_err(|_| Invalid::Form)
}

/// Whether `value` is `IP:PORT` ([`confd_values::ip_address`]); a host name is
/// [`Invalid::NotIp`].
pub fn check_ip_address(value: &str) -> Result<(), Invalid> {
    match confd_values::ip_address(value) {
        Ok(_) => Ok(()),
        Err(confd_values::Invalid::NotIp(host)) => Err(Invalid::NotIp(host)),
        Err(_) => Err(Invalid::Form),
    }
}

/// The server names of `value` (separated by spaces or tabs), each a
/// [`confd_values::server_name`]: a DNS name, optionally with a leading `*.` or `.` or a
/// trailing `.*`. No names at all is invalid too.
pub fn check_server_names(value: &str) -> Result<Vec<&str>, Invalid> {
    let names: Vec<&str> = value.split([' ', '\t']).filter(|n| !n.is_empty()).collect();
    if names.is_empty() {
        return Err(Invalid::Form);
    }
    for name in &names {
        if confd_values::server_name(name).is_err() {
            return Err(Invalid::ServerName((*name).to_string()));
        }
    }
    Ok(names)
}

/// Whether `value` is a bare token: a key segment ([`confd_values::segment`]: letters,
/// digits, `.`, `_` and `-`, not `.` or `..`) of at most [`MAX_TOKEN`] bytes.
pub fn check_token(value: &str) -> Result<(), Invalid> {
    if value.len() <= MAX_TOKEN && confd_values::segment(value).is_ok() {
        Ok(())
    } else {
        Err(Invalid::Form)
    }
}

/// `s` with the characters special to Go's `path.Match` (`*`, `?`, `[`, `\`) escaped by a
/// backslash, so that the pattern `prefix + glob_escape(s)` matches `s` literally.
pub fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---- applying a check to what a template passes -------------------------------------------

/// One entry a template passed: its value and, from a `KVPair`, its key.
pub(crate) struct Entry {
    key: Option<Arc<str>>,
    value: Arc<str>,
}

/// What a template passed to a checking function.
pub(crate) enum Input {
    One(Entry),
    Many(Vec<Entry>),
}

/// Reads a string, a `memkv.KVPair`, or a list of them; `None` for anything else.
pub(crate) fn input(v: &Value) -> Option<Input> {
    match v {
        Value::List(list) => {
            list.items.iter().map(entry).collect::<Option<Vec<_>>>().map(Input::Many)
        }
        other => entry(other).map(Input::One),
    }
}

fn entry(v: &Value) -> Option<Entry> {
    match v {
        Value::String(s) => Some(Entry { key: None, value: s.clone() }),
        Value::Struct(s) if Arc::ptr_eq(&s.ty, &super::kv_pair_type()) => {
            match (s.fields.first(), s.fields.get(1)) {
                (Some(Value::String(key)), Some(Value::String(value))) => {
                    Some(Entry { key: Some(key.clone()), value: value.clone() })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A lower-cased server name or token, by context → the entry that claimed it first.
type Claims = HashMap<(Context, String), Arc<str>>;

/// The checking state of one render: where rejections go and which server names are taken.
#[derive(Clone)]
pub(crate) struct Checker {
    rejections: Rejections,
    /// Resolves the host names of addresses.
    host: Arc<dyn Host>,
    claims: Arc<Mutex<Claims>>,
}

impl Checker {
    pub(crate) fn new(rejections: Rejections, host: Arc<dyn Host>) -> Checker {
        Checker { rejections, host, claims: Arc::default() }
    }

    /// Applies the check for `context` to what the template passed.
    pub(crate) fn apply(&self, context: Context, input: Input) -> Value {
        match input {
            Input::One(e) => Value::String(self.check(context, &e).unwrap_or_else(|| "".into())),
            Input::Many(entries) => {
                Value::string_list(entries.iter().filter_map(|e| self.check(context, e)))
            }
        }
    }

    /// The value of `e` as it may be rendered, or `None` when it is left out.
    fn check(&self, context: Context, e: &Entry) -> Option<Arc<str>> {
        let checked = match context {
            Context::Address => self.check_resolvable_address(&e.value).map(|()| e.value.clone()),
            Context::IpAddress => check_ip_address(&e.value).map(|()| e.value.clone()),
            Context::Token => check_token(&e.value).map(|()| self.claim_token(e)),
            Context::ServerNames => check_server_names(&e.value).map(|names| self.claim(e, names)),
        };
        match checked {
            Ok(value) if !value.is_empty() => Some(value),
            Ok(_) => None, // claimed by others: reported by `claim`
            Err(invalid) => {
                self.reject(context, e, Reason::Invalid(invalid));
                None
            }
        }
    }

    /// [`check_address`], and for a host name also that it resolves now.
    fn check_resolvable_address(&self, value: &str) -> Result<(), Invalid> {
        let host = confd_values::address(value).map_err(|_| Invalid::Form)?;
        if confd_values::is_ip_literal(host) || !self.host.lookup_ip(host).is_empty() {
            Ok(())
        } else {
            Err(Invalid::Unresolved(host.to_string()))
        }
    }

    /// Keeps the names of `e` not already claimed by another entry, and claims them.
    fn claim(&self, e: &Entry, names: Vec<&str>) -> Arc<str> {
        let owner_of_e = e.key.clone().unwrap_or_else(|| e.value.clone());
        let mut kept: Vec<&str> = Vec::with_capacity(names.len());
        let mut taken = Vec::new();
        {
            let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
            for name in names {
                let claim = (Context::ServerNames, name.to_ascii_lowercase());
                let owner = claims.entry(claim).or_insert(owner_of_e.clone());
                if *owner == owner_of_e {
                    if !kept.iter().any(|k| k.eq_ignore_ascii_case(name)) {
                        kept.push(name);
                    }
                } else {
                    taken.push((name.to_string(), owner.clone()));
                }
            }
        }
        for (name, owner) in taken {
            self.reject(Context::ServerNames, e, Reason::NameClaimed { name, owner });
        }
        kept.join(" ").into()
    }

    /// The token of `e`, or `""` when a different token equal to it but for case came first.
    fn claim_token(&self, e: &Entry) -> Arc<str> {
        let claim = (Context::Token, e.value.to_ascii_lowercase());
        let owner = {
            let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
            claims.entry(claim).or_insert(e.value.clone()).clone()
        };
        if owner == e.value {
            return e.value.clone();
        }
        let reason = Reason::NameClaimed { name: e.value.to_string(), owner };
        self.reject(Context::Token, e, reason);
        "".into()
    }

    fn reject(&self, context: Context, e: &Entry, reason: Reason) {
        self.rejections.push(Rejection {
            context,
            key: e.key.clone(),
            value: e.value.clone(),
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_follow_confd_values() {
        assert_eq!(check_address("127.0.0.1:8080"), Ok(()));
        assert_eq!(check_address("127.0.0.1:8081; } server {"), Err(Invalid::Form));
        assert_eq!(check_ip_address("[::1]:8080"), Ok(()));
        assert_eq!(check_ip_address("web:8080"), Err(Invalid::NotIp("web".into())));
        assert_eq!(check_ip_address("1.2.3.4:0"), Err(Invalid::Form));
        assert_eq!(
            check_server_names(" a.example.com\t*.b.example  .c.example d.* "),
            Ok(vec!["a.example.com", "*.b.example", ".c.example", "d.*"])
        );
        assert_eq!(check_server_names("   "), Err(Invalid::Form));
        assert_eq!(
            check_server_names("ok.example a.com;"),
            Err(Invalid::ServerName("a.com;".into()))
        );
        assert_eq!(check_token("web"), Ok(()));
        assert_eq!(check_token("*"), Err(Invalid::Form));
        assert_eq!(check_token(&"a".repeat(MAX_TOKEN)), Ok(()));
        assert_eq!(check_token(&"a".repeat(MAX_TOKEN + 1)), Err(Invalid::Form));
    }

    #[test]
    fn glob_escape_matches_literally() {
        for name in ["*", "[", "a?b", "x\\y", "[a-z]", "plain"] {
            let pattern = format!("/u/{}/*", glob_escape(name));
            let key = format!("/u/{name}/i1");
            assert_eq!(confd_kv::gopath::path_match(&pattern, &key), Ok(true), "{name}");
            let other = "/u/other/i1";
            assert_eq!(confd_kv::gopath::path_match(&pattern, other), Ok(false), "{name}");
        }
    }

    /// A host that resolves only `localhost`.
    struct NoHost;

    impl Host for NoHost {
        fn getenv(&self, _: &str) -> Option<String> {
            None
        }
        fn lookup_ip(&self, host: &str) -> Vec<std::net::IpAddr> {
            if host == "localhost" {
                vec![std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)]
            } else {
                vec![]
            }
        }
        fn lookup_srv(&self, _: &str, _: &str, _: &str) -> Vec<super::super::Srv> {
            vec![]
        }
        fn file_exists(&self, _: &str) -> bool {
            false
        }
        fn now(&self) -> super::super::Now {
            unimplemented!("not used")
        }
    }

    #[test]
    fn address_host_names_must_resolve() {
        let rejections = Rejections::new();
        let checker = Checker::new(rejections.clone(), Arc::new(NoHost));
        let addr = |v: &str| {
            let e = kv("/upstream/web/i1", v);
            checker.check(Context::Address, &e).map(|t| t.to_string())
        };
        assert_eq!(addr("localhost:80").as_deref(), Some("localhost:80"));
        assert_eq!(addr("10.0.0.1:80").as_deref(), Some("10.0.0.1:80"));
        assert_eq!(addr("[::1]:80").as_deref(), Some("[::1]:80"));
        assert_eq!(addr("nohost.invalid:80"), None);
        let taken: Vec<String> = rejections.take().iter().map(ToString::to_string).collect();
        assert_eq!(
            taken,
            ["key /upstream/web/i1: value \"nohost.invalid:80\": the host name \"nohost.invalid\" \
              does not resolve; left out (addr)"]
        );
    }

    fn kv(key: &str, value: &str) -> Entry {
        Entry { key: Some(key.into()), value: value.into() }
    }

    #[test]
    fn tokens_differing_only_in_case_clash() {
        let rejections = Rejections::new();
        let checker = Checker::new(rejections.clone(), Arc::new(NoHost));
        let token = |v: &str| {
            let e = Entry { key: None, value: v.into() };
            checker.check(Context::Token, &e).map(|t| t.to_string())
        };
        assert_eq!(token("web").as_deref(), Some("web"));
        assert_eq!(token("web").as_deref(), Some("web"));
        assert_eq!(token("WEB"), None);
        assert_eq!(token("api").as_deref(), Some("api"));
        let taken: Vec<String> = rejections.take().iter().map(ToString::to_string).collect();
        assert_eq!(
            taken,
            ["value \"WEB\" clashes with web (names differing only in case: WEB); left out (token)"]
        );
    }

    #[test]
    fn first_claim_of_a_server_name_wins() {
        let rejections = Rejections::new();
        let checker = Checker::new(rejections.clone(), Arc::new(NoHost));
        let web = kv("/subdomain/web", "web.example.com www.example.com");
        let other = kv("/subdomain/zz", "WWW.example.com zz.example.com");
        assert_eq!(checker.check(Context::ServerNames, &web).as_deref(), Some(&*web.value));
        assert_eq!(checker.check(Context::ServerNames, &other).as_deref(), Some("zz.example.com"));
        // The same entry again keeps its own names.
        assert_eq!(checker.check(Context::ServerNames, &web).as_deref(), Some(&*web.value));
        let taken = rejections.take();
        assert_eq!(taken.len(), 1);
        assert_eq!(
            taken[0].to_string(),
            "key /subdomain/zz: value \"WWW.example.com zz.example.com\" claims server name \
             WWW.example.com, which /subdomain/web already has; name left out (serverNames)"
        );
    }

    #[test]
    fn rejection_messages_are_quoted_and_cut() {
        let r = Rejection {
            context: Context::Address,
            key: Some("/upstream/web/i2".into()),
            value: format!("1.2.3.4:80;\n{}", "x".repeat(1 << 20)).into(),
            reason: Reason::Invalid(Invalid::Form),
        };
        let text = r.to_string();
        assert!(text.starts_with("key /upstream/web/i2: value \"1.2.3.4:80;\\nxxx"), "{text}");
        assert!(
            text.ends_with("… (1048588 bytes) is not a host:port address; left out (addr)"),
            "{text}"
        );
        assert!(!text.contains('\n'));
    }
}
