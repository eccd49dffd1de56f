//! The key store and memkv's lookup functions.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::gopath::{self, PatternError};

/// One key and its value, as `get` and `gets` return them (memkv's `KVPair`; templates see its
/// fields as `.Key` and `.Value`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvPair {
    /// The full key, e.g. `/upstream/web/1`.
    pub key: Arc<str>,
    /// Its value.
    pub value: Arc<str>,
}

/// A sorted key store with confd's memkv lookup semantics.
///
/// A template run builds one store (keys are normally absolute, clean paths such as
/// `/upstream/web/1`, because confd stores every fetched key as `path.Join("/", key)`) and
/// then only reads it. Any string is accepted as a key, though, and every lookup gives
/// memkv's answer for it.
///
/// Keys are kept in byte order, in one sorted vector, so the prefix queries behind
/// [`gets`](Store::gets), [`ls`](Store::ls) and [`lsdir`](Store::lsdir) are range scans of
/// it. A template usually asks for directory after directory in key order (`getvs` inside a
/// `range` over `ls`), so a prefix scan first looks just after where the last one ended (the
/// *finger*) before it searches the whole vector. Besides the pairs, the store
/// keeps the set of *irregular* keys: keys whose directory part is not already in
/// [`clean`](gopath::clean) form (`/a//b`, `/a/./b`, `/x/../y/z`, keys with no slash). memkv
/// decides directory membership on the cleaned directory, which for those keys can differ
/// from the raw text; `ls`/`lsdir` check them one by one. Stores built by confd have none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Store {
    /// Every key with its value, in ascending byte order of the keys, each key once.
    pairs: Vec<(Arc<str>, Arc<str>)>,
    irregular: BTreeSet<Arc<str>>,
    finger: Finger,
}

/// Where the last prefix scan of a [`Store`] ended: a hint for the next one, not part of the
/// store's value (any index gives the same answers, a good one sooner). Shared by the threads
/// that read one store; each reads and writes it whole.
#[derive(Debug, Default)]
struct Finger(AtomicUsize);

impl Clone for Finger {
    fn clone(&self) -> Finger {
        Finger(AtomicUsize::new(self.0.load(Ordering::Relaxed)))
    }
}

impl PartialEq for Finger {
    fn eq(&self, _: &Finger) -> bool {
        true
    }
}

impl Eq for Finger {}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`, replacing any previous value (memkv's `Set`).
    ///
    /// Cost: a search, then moving the pairs after the key by one place (a memory move of
    /// 32 bytes a pair). Many changes at once are cheaper through [`update`](Store::update).
    pub fn insert(&mut self, key: impl Into<Arc<str>>, value: impl Into<Arc<str>>) {
        let key = key.into();
        if !is_regular(&key) {
            self.irregular.insert(key.clone());
        }
        match self.position(&key) {
            Ok(i) => self.pairs[i].1 = value.into(),
            Err(i) => self.pairs.insert(i, (key, value.into())),
        }
    }

    /// Sets each key given a value and removes each key given `None`, as [`insert`] and
    /// [`remove`] one by one in the order given would; many changes in one pass over the
    /// store rather than one move of its pairs each.
    ///
    /// [`insert`]: Store::insert
    /// [`remove`]: Store::remove
    pub fn update(&mut self, changes: impl IntoIterator<Item = (Arc<str>, Option<Arc<str>>)>) {
        let changes: Vec<(Arc<str>, Option<Arc<str>>)> = changes.into_iter().collect();
        if changes.len() <= FEW_CHANGES {
            for (key, value) in changes {
                match value {
                    Some(value) => self.insert(key, value),
                    None => drop(self.remove(&key)),
                }
            }
            return;
        }
        let changes = sorted_last_wins(changes);
        for (key, value) in &changes {
            if value.is_none() {
                self.irregular.remove(key);
            } else if !is_regular(key) {
                self.irregular.insert(key.clone());
            }
        }
        let old = std::mem::take(&mut self.pairs);
        self.pairs = merge(old, changes);
    }

    /// A store of `pairs` given in ascending key order without repeats (as a `BTreeMap`
    /// iterates), taken as they are. Pairs out of order still give the right store, only more
    /// slowly (they are sorted first; of repeated keys the last wins).
    pub fn from_sorted(pairs: impl IntoIterator<Item = (Arc<str>, Arc<str>)>) -> Self {
        let pairs = sorted_last_wins(pairs.into_iter().collect());
        let irregular = pairs.iter().map(|(k, _)| k).filter(|k| !is_regular(k)).cloned().collect();
        Store { pairs, irregular, finger: Finger::default() }
    }

    /// [`from_sorted`](Store::from_sorted) for keys already known to be absolute and in clean
    /// form (no empty, `.` or `..` element, no trailing slash), as a resource's keys are once
    /// those that are not have been left out: such keys are regular, so none is checked again.
    /// A key that is not clean after all is still found by `get` and the patterns, but `ls`
    /// and `lsdir` may then answer for it as for its cleaned form. Checked in debug builds.
    pub fn from_sorted_clean(pairs: impl IntoIterator<Item = (Arc<str>, Arc<str>)>) -> Self {
        let pairs = sorted_last_wins(pairs.into_iter().collect());
        debug_assert!(pairs.iter().all(|(k, _)| k.starts_with('/') && gopath::is_clean(k)));
        Store { pairs, irregular: BTreeSet::new(), finger: Finger::default() }
    }

    /// Removes `key` and returns its value, if it was present (memkv's `Del`).
    pub fn remove(&mut self, key: &str) -> Option<Arc<str>> {
        self.irregular.remove(key);
        let i = self.position(key).ok()?;
        Some(self.pairs.remove(i).1)
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the store has no keys.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// All keys and values, in key (byte) order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Arc<str>)> {
        self.pairs.iter().map(|(key, value)| (key, value))
    }

    /// The pair stored under exactly `key` (template `get`; `getv` is its value). `None` is
    /// the template error `key does not exist: KEY`.
    pub fn get(&self, key: &str) -> Option<KvPair> {
        let (key, value) = &self.pairs[self.position(key).ok()?];
        Some(KvPair { key: key.clone(), value: value.clone() })
    }

    /// Whether `key` itself is stored (template `exists`). Exact key only: a "directory"
    /// that merely has keys below it does not exist (confd issue #273).
    pub fn exists(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Where `key` is in `pairs`, or where it would go.
    fn position(&self, key: &str) -> Result<usize, usize> {
        self.pairs.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    /// The index of the first key at or after `prefix`, looked for first just after the
    /// finger. The finger is then moved to `end` of what the caller scans
    /// ([`Store::scanned_to`]).
    fn first_at_or_after(&self, prefix: &str) -> usize {
        let len = self.pairs.len();
        let finger = self.finger.0.load(Ordering::Relaxed).min(len);
        let before_finger_is_smaller = finger == 0 || *self.pairs[finger - 1].0 < *prefix;
        if !before_finger_is_smaller {
            return self.pairs.partition_point(|(k, _)| **k < *prefix);
        }
        // Gallop forward from the finger: 1, 2, 4, … pairs until one is not smaller.
        let (mut low, mut step) = (finger, 1);
        loop {
            let probe = finger.saturating_add(step - 1);
            if probe >= len || *self.pairs[probe].0 >= *prefix {
                let high = probe.min(len);
                return low + self.pairs[low..high].partition_point(|(k, _)| **k < *prefix);
            }
            low = probe + 1;
            step *= 2;
        }
    }

    /// Moves the finger to `end`, where a scan stopped.
    fn scanned_to(&self, end: usize) {
        self.finger.0.store(end, Ordering::Relaxed);
    }

    /// Every pair whose whole key matches `pattern` under Go's `path.Match`
    /// ([`gopath::path_match`]), sorted by key (template `gets`). `*` stops at `/`, so
    /// `gets "/app/*"` returns `/app/port` but not `/app/db/user`. No match is an empty list,
    /// not an error.
    ///
    /// The keys scanned are only those starting with the pattern's literal prefix (the text
    /// before its first `*`, `?`, `[` or `\`), found by a range scan.
    ///
    /// # Errors
    ///
    /// [`PatternError`] (`syntax error in pattern`) for a malformed pattern, but only when
    /// the store holds at least one key: memkv calls `path.Match` once per stored key, so on
    /// an empty store a bad pattern goes unnoticed. In Go 1.19 a malformed pattern fails for
    /// every key, so a non-empty store always reports it, whichever keys are under the
    /// pattern's prefix.
    pub fn gets(&self, pattern: &str) -> Result<Vec<KvPair>, PatternError> {
        let mut out = Vec::new();
        self.each_match(pattern, |key, value| {
            out.push(KvPair { key: key.clone(), value: value.clone() });
        })?;
        Ok(out)
    }

    /// Calls `each` with every pair whose key matches `pattern`, in key order; the scan and
    /// the errors of [`gets`](Store::gets).
    fn each_match(
        &self,
        pattern: &str,
        mut each: impl FnMut(&Arc<str>, &Arc<str>),
    ) -> Result<(), PatternError> {
        if self.pairs.is_empty() {
            return Ok(());
        }
        let prefix = gopath::literal_prefix(pattern);
        let start = self.first_at_or_after(prefix);
        let under =
            self.pairs[start..].iter().take_while(|(key, _)| key.starts_with(prefix)).count();
        self.scanned_to(start + under);
        let candidates = self.pairs[start..start + under].iter().map(|(key, value)| (key, value));
        if pattern.len() == prefix.len() + 1 && pattern.ends_with('*') {
            // The usual `/dir/*` (always well formed): the star takes whatever follows the
            // prefix, up to a `/`.
            for (key, value) in candidates {
                if !key[prefix.len()..].contains('/') {
                    each(key, value);
                }
            }
            return Ok(());
        }
        // Go 1.19's Match reports a malformed pattern whatever the name, so one probe tells.
        gopath::path_match(pattern, "")?;
        for (key, value) in candidates {
            if gopath::path_match(pattern, key)? {
                each(key, value);
            }
        }
        Ok(())
    }

    /// The values of the [`gets`](Store::gets) matches, sorted by **value** in byte order
    /// (template `getvs`, Go's `sort.Strings`), not by key: values `a-val` and `B-val` come
    /// out as `[B-val a-val]`. Duplicate values are kept.
    ///
    /// # Errors
    ///
    /// As for [`gets`](Store::gets).
    pub fn getvs(&self, pattern: &str) -> Result<Vec<Arc<str>>, PatternError> {
        self.getvs_as(pattern, Arc::clone, |value| value)
    }

    /// [`getvs`](Store::getvs) with each value made into a `T` (a template's value, say) as it
    /// is found; `text` gives back the value a `T` was made from, to sort by.
    ///
    /// # Errors
    ///
    /// As for [`gets`](Store::gets).
    pub fn getvs_as<T>(
        &self,
        pattern: &str,
        make: impl Fn(&Arc<str>) -> T,
        text: impl Fn(&T) -> &str,
    ) -> Result<Vec<T>, PatternError> {
        let mut values = Vec::new();
        self.each_match(pattern, |_, value| values.push(make(value)))?;
        values.sort_unstable_by(|a, b| text(a).cmp(text(b)));
        Ok(values)
    }

    /// The sorted, de-duplicated names of the immediate children of `path`, leaves and
    /// "directories" alike (template `ls`).
    ///
    /// Over `/app/a`, `/app/b/c` and `/app/b/d`, `ls "/app"` is `[a b]`. A trailing slash on
    /// `path` is fine (`ls "/app/"` is the same). A key that is itself `path` contributes its
    /// own base name, so `ls` on a leaf gives `[leaf]`. An unknown path, or a path without a
    /// leading `/` when all keys are absolute, gives `[]`. A key may be a leaf and a directory
    /// at once (`/app` and `/app/x`).
    ///
    /// Precisely, as memkv computes it: let `C = clean(path)`. A key `K` contributes
    /// - `base(K)` if `K == path`;
    /// - otherwise, if `dir(K)` is `C` or lies below `C` (compared element by element): the
    ///   first element of `K` with the raw text `path` removed from its front (if it is
    ///   there) and then one `/` removed from its front.
    ///
    /// Because the raw `path` is stripped, odd paths give odd names, exactly as in confd: a
    /// stored key `/test/data/` (trailing slash; it is a plain key) makes `ls "/test/data"`
    /// include the name `""`, and `ls "/a//b"` over `/a/b/x` gives `[a]`.
    ///
    /// Cost: O((children + 1) · log n) for stores of clean keys: after a child is found the
    /// scan jumps past that child's whole subtree. Irregular keys (see [`Store`]) are checked
    /// one by one in addition.
    ///
    /// # Compatibility
    ///
    /// confd's `ls "/"` (any `path` that cleans to `/`) returns only the top-level *leaf* keys
    /// (confd issue #725): memkv's element-by-element comparison never places a key of depth
    /// two or more below the root. Here every absolute key is below the root, so `ls "/"`
    /// returns all top-level names, leaves and directories. The rules above are otherwise
    /// unchanged (a stored key `/` still contributes `/`, its base name, to `ls "/"`).
    /// Every other path gives exactly confd's answer. [`ls_as_confd`](Store::ls_as_confd)
    /// gives confd's answer for the root too, and is what templates get by default.
    pub fn ls(&self, path: &str) -> Vec<Arc<str>> {
        let below = dir_prefix(path);
        let mut names: Vec<&str> = Vec::new();
        if self.exists(path) {
            names.push(gopath::base_str(path));
        }
        let mut lower: Bound<Cow<'_, str>> = Bound::Included(Cow::Borrowed(below.as_str()));
        'seek: loop {
            let mut keys = self.keys_from(&lower).peekable();
            while let Some(key) = keys.next() {
                if !key.starts_with(below.as_str()) {
                    break 'seek;
                }
                if key == path || self.is_irregular(key) {
                    continue;
                }
                // A regular key below `below` is a child entry of `path` (see `is_regular`).
                let (name, subtree) = ls_name(key, path);
                names.push(name);
                let Some(subtree_len) = subtree else { continue };
                // Skip the rest of the subtree, where every key gives the same name: a few
                // keys by walking on, a larger subtree by searching past it. Keys that start
                // with `path` have their names computed differently; never skip the first.
                let subtree = &key[..=subtree_len];
                let stop_at_path = key < path;
                let in_subtree = |k: &str| k.starts_with(subtree) && !(stop_at_path && k >= path);
                let mut walked = 0;
                while keys.next_if(|k| walked < LS_WALK && in_subtree(k)).is_some() {
                    walked += 1;
                }
                if walked == LS_WALK && keys.peek().is_some_and(|k| in_subtree(k)) {
                    let mut next = String::with_capacity(subtree_len + 1);
                    next.push_str(&key[..subtree_len]);
                    next.push('0'); // the byte after '/'
                    lower = if stop_at_path && next.as_str() > path {
                        Bound::Included(Cow::Borrowed(path))
                    } else {
                        Bound::Included(Cow::Owned(next))
                    };
                    continue 'seek;
                }
            }
            break;
        }
        for key in &self.irregular {
            let key: &str = key;
            if key != path && is_prefix_of_dir(&below, key) {
                names.push(ls_name(key, path).0);
            }
        }
        names.sort_unstable();
        names.dedup();
        names.into_iter().map(Arc::from).collect()
    }

    /// [`ls`](Store::ls) exactly as confd answers it, root included: for a `path` that cleans
    /// to `/`, only the top-level *leaf* keys (and `/` for a stored key `/`), which is confd
    /// issue #725; for every other path the same as `ls`.
    pub fn ls_as_confd(&self, path: &str) -> Vec<Arc<str>> {
        if gopath::clean(path) != "/" {
            return self.ls(path);
        }
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for (key, _) in &self.pairs {
            let key: &str = key;
            if key == path {
                names.insert(gopath::base_str(key));
            } else if gopath::dir(key) == "/" {
                // memkv: the first element of the key with the raw path and then one '/'
                // removed from its front.
                let rest = key.strip_prefix(path).unwrap_or(key);
                let rest = rest.strip_prefix('/').unwrap_or(rest);
                names.insert(rest.split('/').next().unwrap_or_default());
            }
        }
        names.into_iter().map(Arc::from).collect()
    }

    /// [`lsdir`](Store::lsdir) exactly as confd answers it: for a `path` that cleans to `/`,
    /// always nothing (confd issue #725); for every other path the same as `lsdir`.
    pub fn lsdir_as_confd(&self, path: &str) -> Vec<Arc<str>> {
        if gopath::clean(path) == "/" {
            return Vec::new();
        }
        self.lsdir(path)
    }

    /// The sorted names of the immediate children of `path` that have children themselves
    /// (template `lsdir`).
    ///
    /// Over `/test/data/abc`, `/test/data/def/ghi` and `/test/data/jkl/mno`,
    /// `lsdir "/test/data"` is `[def jkl]`. A trailing slash on `path` is fine.
    ///
    /// Precisely, as memkv computes it: let `C = clean(path)`. A key `K` that starts with the
    /// raw text `path` and whose `dir(K)` lies strictly below `C` (compared element by
    /// element) contributes the element of `dir(K)` right after `C`. So a stored key
    /// `/app/x/` (trailing slash) makes `x` a directory of `/app`.
    ///
    /// Cost: as for [`ls`](Store::ls).
    ///
    /// # Compatibility
    ///
    /// confd's `lsdir "/"` (any `path` that cleans to `/`) always returns `[]` (confd issue
    /// #725). Here every key whose directory is an absolute path other than `/` is below the
    /// root, so `lsdir "/"` returns the top-level names that have children. The raw-prefix
    /// rule still applies, so other spellings of the root (`//`, `/.`) match no clean key and
    /// give `[]`, like any unclean path in confd. Every path that does not clean to `/` gives
    /// exactly confd's answer. [`lsdir_as_confd`](Store::lsdir_as_confd) gives confd's answer
    /// for the root too, and is what templates get by default.
    pub fn lsdir(&self, path: &str) -> Vec<Arc<str>> {
        let below = dir_prefix(path);
        let mut names: BTreeSet<Cow<'_, str>> = BTreeSet::new();
        // Keys must start with both `below` and `path`; unless one is a prefix of the other,
        // no regular key can.
        let scan_prefix = if path.starts_with(below.as_str()) {
            Some(path)
        } else if below.starts_with(path) {
            Some(below.as_str())
        } else {
            None
        };
        if let Some(scan_prefix) = scan_prefix {
            let mut lower: Bound<Cow<'_, str>> = Bound::Included(Cow::Borrowed(scan_prefix));
            while let Some(key) = self.first_from(&lower) {
                if !key.starts_with(scan_prefix) {
                    break;
                }
                if self.is_irregular(key) {
                    lower = Bound::Excluded(Cow::Borrowed(key));
                    continue;
                }
                // For a regular key, dir(K) is its text before the last slash.
                let rest = &key[below.len()..];
                lower = match rest.find('/') {
                    Some(end) => {
                        names.insert(Cow::Borrowed(&rest[..end]));
                        let mut next = String::with_capacity(below.len() + end + 1);
                        next.push_str(&key[..below.len() + end]);
                        next.push('0'); // the byte after '/'
                        Bound::Included(Cow::Owned(next))
                    }
                    None => Bound::Excluded(Cow::Borrowed(key)),
                };
            }
        }
        for key in &self.irregular {
            if !key.starts_with(path) {
                continue;
            }
            let dir = gopath::dir(key);
            if dir.len() > below.len() && dir.starts_with(below.as_str()) {
                let rest = &dir[below.len()..];
                let name = rest.split('/').next().unwrap_or_default();
                names.insert(Cow::Owned(name.to_string()));
            }
        }
        names.into_iter().map(|name| Arc::from(name.as_ref())).collect()
    }

    /// The first key at or after `lower`.
    /// The keys from `lower` on, in order (a search of the tree, then a walk).
    fn keys_from(&self, lower: &Bound<Cow<'_, str>>) -> impl Iterator<Item = &str> {
        #[cfg(test)]
        tests::PROBES.with(|probes| probes.set(probes.get() + 1));
        let start = match lower {
            Bound::Included(s) => self.pairs.partition_point(|(k, _)| **k < **s),
            Bound::Excluded(s) => self.pairs.partition_point(|(k, _)| **k <= **s),
            Bound::Unbounded => 0,
        };
        self.pairs[start..].iter().map(|(key, _)| &**key)
    }

    fn first_from(&self, lower: &Bound<Cow<'_, str>>) -> Option<&str> {
        self.keys_from(lower).next()
    }

    fn is_irregular(&self, key: &str) -> bool {
        !self.irregular.is_empty() && self.irregular.contains(key)
    }
}

impl<K: Into<Arc<str>>, V: Into<Arc<str>>> FromIterator<(K, V)> for Store {
    /// As [`insert`](Store::insert) of each pair in turn (of repeated keys the last wins).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Store::from_sorted(iter.into_iter().map(|(key, value)| (key.into(), value.into())))
    }
}

/// `pairs` sorted by key, each key once: of repeated keys the last wins, as with one insert
/// after another. Pairs already in order are taken as they are.
fn sorted_last_wins<V>(mut pairs: Vec<(Arc<str>, V)>) -> Vec<(Arc<str>, V)> {
    if pairs.is_sorted_by(|a, b| a.0 < b.0) {
        return pairs;
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0)); // stable: repeated keys stay in order
    pairs.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            std::mem::swap(&mut later.1, &mut kept.1); // keep the later value
        }
        same
    });
    pairs
}

/// Up to how many changes [`Store::update`] makes one by one.
const FEW_CHANGES: usize = 8;

/// `pairs` (sorted, each key once) with `changes` (sorted, each key once) applied: a changed
/// key takes its new value, or goes when it has none.
fn merge(
    pairs: Vec<(Arc<str>, Arc<str>)>,
    changes: Vec<(Arc<str>, Option<Arc<str>>)>,
) -> Vec<(Arc<str>, Arc<str>)> {
    let mut merged = Vec::with_capacity(pairs.len() + changes.len());
    let mut pairs = pairs.into_iter().peekable();
    for (key, value) in changes {
        while let Some(pair) = pairs.next_if(|(k, _)| *k < key) {
            merged.push(pair);
        }
        pairs.next_if(|(k, _)| *k == key);
        if let Some(value) = value {
            merged.push((key, value));
        }
    }
    merged.extend(pairs);
    merged
}

/// How many keys of a child's subtree `ls` walks past before it searches past the rest.
const LS_WALK: usize = 8;

/// The text every directory at or below `clean(path)` starts with once a `/` is appended:
/// `clean(path) + "/"`, and `/` for the root. With the root this is also our fix of confd's
/// root bug: memkv's element comparison makes the root's prefix `//`, which no clean
/// directory has.
fn dir_prefix(path: &str) -> String {
    let mut prefix = gopath::clean(path);
    if prefix != "/" {
        prefix.push('/');
    }
    prefix
}

/// Whether `dir(key)` is at or below the directory whose [`dir_prefix`] is `below`:
/// memkv's "the path elements of `dir(K)` start with those of `clean(path)`". Comparing
/// elements is comparing text at element boundaries, i.e. whether `dir(K) + "/"` starts with
/// `clean(path) + "/"`.
fn is_prefix_of_dir(below: &str, key: &str) -> bool {
    let mut dir = gopath::dir(key);
    dir.push('/');
    dir.starts_with(below)
}

/// memkv's `ls` name for a key that is a child entry of `path`: strip the raw `path` from the
/// front if it is there, then one `/`, and take the text up to the next `/`. Also returns,
/// when the key continues past that name with a `/`, the length of the key's text up to and
/// including the name: every key that starts with that text plus `/` gives the same name.
fn ls_name<'k>(key: &'k str, path: &str) -> (&'k str, Option<usize>) {
    let mut start = if key.starts_with(path) { path.len() } else { 0 };
    if key[start..].starts_with('/') {
        start += 1;
    }
    let rest = &key[start..];
    match rest.find('/') {
        Some(end) => (&rest[..end], Some(start + end)),
        None => (rest, None),
    }
}

/// Whether the directory part of `key` is already clean, so that `dir(key)` is the raw text
/// before the last slash (or `/` for `/name`). For such a key and any path `C` other than
/// the root, "`dir(K)` is at or below `clean(C)`" is the same as "`K` starts with
/// `clean(C) + "/"`", which is what lets `ls`/`lsdir` use range scans.
fn is_regular(key: &str) -> bool {
    if key.starts_with('/') {
        // The directory of an absolute key is in clean form when each element before the
        // last is a name (`/` itself and `/name` have the root as directory).
        return gopath::names_before_the_last(key.as_bytes()).is_some();
    }
    match key.rfind('/') {
        None => false,
        Some(last) => gopath::is_clean(&key[..last]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Range lookups made by `ls`/`lsdir` on this thread.
        pub(super) static PROBES: Cell<usize> = const { Cell::new(0) };
    }

    fn probes<T>(f: impl FnOnce() -> T) -> (T, usize) {
        PROBES.with(|probes| probes.set(0));
        let out = f();
        (out, PROBES.with(Cell::get))
    }

    #[test]
    fn ls_and_lsdir_cost_follows_the_children_not_the_subtrees() {
        let mut s = Store::new();
        for child in ["a", "b", "c"] {
            for i in 0..2000 {
                s.insert(format!("/x/{child}/{i}/leaf"), "v");
            }
        }
        s.insert("/x/d", "v");
        s.insert("/y/z", "v");
        let (names, n) = probes(|| s.ls("/x"));
        assert_eq!(names.len(), 4);
        assert!(n <= 6, "{n} probes");
        let (names, n) = probes(|| s.lsdir("/x/"));
        assert_eq!(names.len(), 3);
        assert!(n <= 6, "{n} probes");
        let (names, n) = probes(|| s.ls("/"));
        assert_eq!(names.len(), 2);
        assert!(n <= 4, "{n} probes");
        let (names, n) = probes(|| s.ls("/x//"));
        assert_eq!(names, ["x".into()]);
        assert!(n <= 4, "{n} probes");
    }

    fn store(keys: &[&str]) -> Store {
        keys.iter().map(|key| (*key, "v")).collect()
    }

    fn names(list: Vec<Arc<str>>) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn regular_keys() {
        for key in ["/", "/a", "/a/b", "/a/b/", "a/b", "../a", "./x", "/a/.../b"] {
            assert!(is_regular(key), "{key:?}");
        }
        for key in ["", "a", "//x", "/a//b", "/a/./b", "/a/../b", "a/./", "/a/b//"] {
            assert!(!is_regular(key), "{key:?}");
        }
    }

    /// Every key of up to 7 characters from `/`, `.` and `a` is regular exactly when the
    /// text before its last slash is what cleaning it gives and is not the root (`/name`,
    /// whose directory is the root, is regular; `//name` is not).
    #[test]
    fn regular_is_a_clean_directory_for_every_short_key() {
        let by_definition = |key: &str| match key.rfind('/') {
            None => false,
            Some(0) => true,
            Some(last) => key[..last] != *"/" && gopath::clean(&key[..last]) == key[..last],
        };
        let mut keys = vec![String::new()];
        for _ in 0..7 {
            let longer: Vec<String> =
                keys.iter().flat_map(|k| ['/', '.', 'a'].map(|c| format!("{k}{c}"))).collect();
            for key in &longer {
                assert_eq!(is_regular(key), by_definition(key), "{key:?}");
            }
            keys = longer;
        }
    }

    #[test]
    fn ls_skips_subtrees_but_not_siblings_sorting_before_slash() {
        // "/x/s-y" and "/x/s.y" sort between "/x/s" and "/x/s/...".
        let s = store(&["/x/s", "/x/s-y", "/x/s.y", "/x/s/a", "/x/s/b/c", "/x/s0", "/x/t/u"]);
        assert_eq!(names(s.ls("/x")), ["s", "s-y", "s.y", "s0", "t"]);
        assert_eq!(names(s.lsdir("/x")), ["s", "t"]);
    }

    #[test]
    fn ls_name_strips_raw_path() {
        assert_eq!(ls_name("/a/b/c", "/a"), ("b", Some(4)));
        assert_eq!(ls_name("/a/b", "/a/"), ("b", None));
        assert_eq!(ls_name("/a/b/c", "/a//"), ("a", Some(2)));
        assert_eq!(ls_name("/test/data/", "/test/data"), ("", None));
    }
}
