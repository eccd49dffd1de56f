//! Finding and loading the template resources under `<confdir>/conf.d`, as confd does:
//! recursive, lexical order, every file whose base name ends in `toml`.

use std::path::{Path, PathBuf};

use confd_core::resource::{parse_resource, ResourceContext, ResourceError, TemplateResource};

use crate::log;

/// Why the resources could not be loaded (fatal, as in confd); the text is confd's.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("stat {}: {}", path.display(), io_text(source))]
    Stat { path: PathBuf, source: std::io::Error },
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Resource(#[from] ResourceError),
    /// Each push sends a whole membership, so two resources pushing to one endpoint would
    /// replace each other's.
    #[error(
        "{} and {} both push to {target}: each push replaces the whole membership, so one \
         endpoint takes one push resource (render all services in one template)",
        first.display(),
        second.display()
    )]
    SharedPush { first: PathBuf, second: PathBuf, target: String },
}

/// What loading the confdir produced.
pub enum Loaded {
    Resources(Vec<TemplateResource>),
    /// confd's two non-fatal cases: no confdir, or no resources in conf.d (warned, exit 0).
    Nothing,
}

/// Loads every resource; any error is fatal (confd processes nothing if one TOML is bad).
/// Warnings (unknown keys, decimal modes, overridden prefixes) are logged.
pub fn load(confdir: &Path, prefix: &str) -> Result<Loaded, LoadError> {
    if !confdir.exists() {
        log::warning!(
            "Cannot load template resources: confdir '{}' does not exist",
            confdir.display()
        );
        return Ok(Loaded::Nothing);
    }
    let files = resource_files(&confdir.join("conf.d"))?;
    if files.is_empty() {
        log::warning!("Found no templates");
        return Ok(Loaded::Nothing);
    }
    let ctx = ResourceContext::new(confdir, prefix);
    let mut resources = Vec::with_capacity(files.len());
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|source| LoadError::Read { path: file.clone(), source })?;
        let (resource, warnings) = parse_resource(&file, &text, &ctx)?;
        for w in warnings {
            log::warning!("{w}");
        }
        resources.push(resource);
    }
    check_push_targets(&resources)?;
    Ok(Loaded::Resources(resources))
}

/// The resource files under `conf_d`, in the order confd processes them.
pub fn resource_files(conf_d: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let meta = std::fs::metadata(conf_d)
        .map_err(|source| LoadError::Stat { path: conf_d.to_path_buf(), source })?;
    if !meta.is_dir() {
        return Err(LoadError::NotADirectory(conf_d.to_path_buf()));
    }
    let mut files = Vec::new();
    walk(conf_d, &mut files)
        .map_err(|source| LoadError::Read { path: conf_d.to_path_buf(), source })?;
    Ok(files)
}

/// One endpoint takes one push resource: each push replaces the whole membership.
pub fn check_push_targets(resources: &[TemplateResource]) -> Result<(), LoadError> {
    for (i, resource) in resources.iter().enumerate() {
        let Some(target) = &resource.push else { continue };
        if let Some(other) = resources[..i].iter().find(|r| r.push.as_ref() == Some(target)) {
            return Err(LoadError::SharedPush {
                first: other.path.clone(),
                second: resource.path.clone(),
                target: target.to_string(),
            });
        }
    }
    Ok(())
}

/// Go's wording for the common I/O errors, as confd prints them.
fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Depth-first, entries in lexical order, like Go's `filepath.Walk`; keeps files whose base
/// name matches `*toml` (there is no dot in confd's pattern).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = std::fs::metadata(&path)?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if entry.file_name().to_string_lossy().ends_with("toml") {
            out.push(path);
        }
    }
    Ok(())
}
