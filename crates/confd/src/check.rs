//! `-check-config`: what confd would load, checked without a store — for an operator's CI
//! before a confdir is deployed. Every template resource under `conf.d`, the template each
//! names (parsed with the full function map: an unknown function or a syntax error is found
//! here, not at the first render) and each `check_cmd` (a template of its own). Each problem
//! names its file and, where there is one, its line; all of them are reported, not only the
//! first.

use std::path::Path;
use std::sync::Arc;

use confd_core::funcs::safe::Rejections;
use confd_core::funcs::{confd_funcs_with, SystemHost};
use confd_core::resource::{parse_resource, ResourceContext, TemplateResource};
use confd_kv::Store;

use crate::resources;

/// What checking a confdir found.
#[derive(Debug, Default)]
pub struct Checked {
    /// Resources that loaded, and templates that parsed.
    pub resources: usize,
    pub templates: usize,
    /// Warnings (what confd accepts but is probably a mistake), each naming file and line.
    pub warnings: Vec<String>,
    /// Errors, each naming file and line.
    pub errors: Vec<String>,
}

/// Checks every resource of `confdir` with the global `prefix`.
pub fn check_confdir(confdir: &Path, prefix: &str) -> Checked {
    let mut checked = Checked::default();
    let conf_d = confdir.join("conf.d");
    let files = match resources::resource_files(&conf_d) {
        Ok(files) => files,
        Err(e) => {
            checked.errors.push(e.to_string());
            return checked;
        }
    };
    if files.is_empty() {
        checked.errors.push(format!("{}: no template resources (*toml)", conf_d.display()));
    }
    let ctx = ResourceContext::new(confdir, prefix);
    let mut loaded: Vec<TemplateResource> = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                checked.errors.push(format!("{}: {e}", file.display()));
                continue;
            }
        };
        match parse_resource(&file, &text, &ctx) {
            Ok((resource, warnings)) => {
                checked.warnings.extend(warnings.iter().map(ToString::to_string));
                loaded.push(resource);
            }
            Err(e) => checked.errors.push(e.to_string()),
        }
    }
    checked.resources = loaded.len();
    if let Err(e) = resources::check_push_targets(&loaded) {
        checked.errors.push(e.to_string());
    }
    for resource in &loaded {
        check_template(resource, &mut checked);
        if let Some(cmd) = &resource.check_cmd {
            if let Err(e) = confd_apply::render_check_cmd(cmd, Path::new("/stage-file")) {
                checked.errors.push(format!("{}: check_cmd: {e}", resource.path.display()));
            }
        }
    }
    checked
}

/// Parses the resource's template with the full function map (no data: nothing is executed).
fn check_template(resource: &TemplateResource, checked: &mut Checked) {
    let text = match std::fs::read(&resource.src) {
        Ok(t) => t,
        Err(e) => {
            let message =
                format!("{}: template {}: {e}", resource.path.display(), resource.src.display());
            checked.errors.push(message);
            return;
        }
    };
    let name = resource
        .src
        .file_name()
        .map_or_else(|| resource.src.display().to_string(), |n| n.to_string_lossy().into_owned());
    let funcs =
        confd_funcs_with(Arc::new(Store::new()), Arc::new(SystemHost::new()), Rejections::new());
    match gotmpl::Template::new(&name).funcs(funcs).parse_bytes(&text) {
        Ok(_) => checked.templates += 1,
        Err(e) => checked.errors.push(format!("{}: {e}", resource.src.display())),
    }
}
