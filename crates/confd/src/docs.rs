//! The man page and shell completions of `confd`, generated from the flag table the parser
//! uses ([`crate::cli::flag_docs`]), so they cannot drift from what the binary accepts.
//! `cargo run -p confd --example gen-docs -- man|bash|zsh` prints them; the Debian package
//! (`scripts/package-deb.sh`) installs them.

use crate::cli::{flag_docs, Kind};

/// `confd(1)` in roff (man macros).
pub fn man_page(version: &str) -> String {
    let mut out = format!(
        ".TH CONFD 1 \"\" \"confd-rs {version}\" \"User Commands\"\n\
         .SH NAME\nconfd \\- render configuration files from a key store, check them, swap them in and reload\n\
         .SH SYNOPSIS\n.B confd\n[\\fIflags\\fR]\n\
         .SH DESCRIPTION\n\
         A drop-in replacement for kelseyhightower/confd: the same flags, the same\n\
         .I confd.toml\nand\n.IR conf.d/*.toml ,\nthe same Go template syntax and functions.\n\
         Each template resource is rendered from the keys it reads, checked with its\n\
         .BR check_cmd ,\nswapped in atomically only if the check passes, and its\n\
         .B reload_cmd\nrun. Flags are Go style: \\fB\\-flag value\\fR, \\fB\\-flag=value\\fR and \\fB\\-\\-flag\\fR\n\
         are the same; settings in confd.toml override the flags, as in confd.\n\
         .SH OPTIONS\n"
    );
    for flag in flag_docs() {
        out.push_str(".TP\n");
        out.push_str(&format!("\\fB\\-{}\\fR", roff(flag.name)));
        if !flag.value_name.is_empty() {
            out.push_str(&format!(" \\fI{}\\fR", roff(&flag.value_name)));
        }
        out.push('\n');
        out.push_str(&roff(&flag.help));
        if let Some(default) = flag.default {
            out.push_str(&format!(" (default: {})", roff(default)));
        }
        out.push('\n');
    }
    out.push_str(
        ".SH SIGNALS\n\
         .TP\n.B SIGHUP\nread the template resources again (watch and interval modes)\n\
         .TP\n.B SIGUSR1\nrelease every fail-static hold at once\n\
         .TP\n.BR SIGTERM \", \" SIGINT\nstop; a running render or command is stopped at once\n\
         .SH FILES\n\
         .TP\n.I /etc/confd/confd.toml\nconfd's own settings\n\
         .TP\n.I /etc/confd/conf.d/*.toml\ntemplate resources\n\
         .TP\n.I /etc/confd/templates/\ntemplates\n\
         .SH EXIT STATUS\n0 on success; 1 when a resource failed with \\fB\\-onetime\\fR, on a fatal\n\
         configuration error, or when \\fB\\-check\\-config\\fR found an error; 2 for a bad command line.\n\
         .SH SEE ALSO\n.BR confd-register (1),\n.BR nginx (8),\n.BR etcd (1)\n",
    );
    out
}

/// Escapes text for roff: backslashes, hyphens (so they are not hyphenation points) and a
/// leading dot or quote.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// Completion for bash: flags, and values for those with a fixed set or a path.
pub fn bash_completion() -> String {
    let flags: Vec<String> = flag_docs().iter().map(|f| format!("-{}", f.name)).collect();
    let booleans: Vec<String> = flag_docs()
        .iter()
        .filter(|f| f.kind == Kind::Bool)
        .map(|f| format!("-{}", f.name))
        .collect();
    format!(
        r#"# bash completion for confd (confd-rs), generated from its flag table
_confd() {{
    local cur prev
    cur=${{COMP_WORDS[COMP_CWORD]}}
    prev=${{COMP_WORDS[COMP_CWORD-1]}}
    case $prev in
        -backend|--backend)
            COMPREPLY=($(compgen -W "etcd etcdv3 file env consul redis zookeeper vault dynamodb ssm rancher" -- "$cur")); return ;;
        -log-level|--log-level)
            COMPREPLY=($(compgen -W "debug info warning error fatal" -- "$cur")); return ;;
        -log-format|--log-format)
            COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
        -confdir|--confdir)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        -config-file|--config-file|-file|--file|-client-ca-keys|--client-ca-keys|-client-cert|--client-cert|-client-key|--client-key|-password-file|--password-file)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    case " {booleans} " in
        *" $prev "*) ;;
        *) if [[ $prev == -* && $prev != *=* ]]; then return; fi ;;
    esac
    COMPREPLY=($(compgen -W "{flags}" -- "$cur"))
}}
complete -F _confd confd
"#,
        booleans = booleans.join(" "),
        flags = flags.join(" ")
    )
}

/// Completion for zsh (`#compdef confd`).
pub fn zsh_completion() -> String {
    let mut out = String::from("#compdef confd\n# zsh completion for confd (confd-rs), generated from its flag table\n_arguments \\\n");
    for flag in flag_docs() {
        let help = flag.help.replace(['[', ']'], "").replace('\'', "");
        let help: String = help.chars().take(70).collect();
        let action = match (flag.kind, flag.name) {
            (Kind::Bool, _) => String::new(),
            (_, "backend") => {
                ":backend:(etcd etcdv3 file env consul redis zookeeper vault dynamodb ssm rancher)"
                    .into()
            }
            (_, "log-level") => ":level:(debug info warning error fatal)".into(),
            (_, "log-format") => ":format:(text json)".into(),
            (_, "confdir") => ":directory:_files -/".into(),
            (
                _,
                "config-file" | "file" | "client-ca-keys" | "client-cert" | "client-key"
                | "password-file",
            ) => ":file:_files".into(),
            _ => format!(":{}: ", flag.value_name),
        };
        let repeat = if flag.kind == Kind::List { "*" } else { "" };
        out.push_str(&format!("  '{repeat}-{}[{help}]{action}' \\\n", flag.name));
    }
    out.push_str("  && return 0\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_is_documented_and_completed() {
        let (man, bash, zsh) = (man_page("0"), bash_completion(), zsh_completion());
        for flag in flag_docs() {
            assert!(
                man.contains(&format!("\\fB\\-{}\\fR", roff(flag.name))),
                "man: -{}",
                flag.name
            );
            let dashed = format!("-{}", flag.name);
            let words = bash.split(|c: char| c.is_whitespace() || c == '"');
            assert!(words.clone().any(|w| w == dashed), "bash: -{}", flag.name);
            assert!(zsh.contains(&format!("-{}[", flag.name)), "zsh: -{}", flag.name);
        }
        assert!(man.contains("(default: 200ms:1s)"), "defaults are shown");
    }

    #[test]
    fn roff_escapes_what_roff_would_interpret() {
        assert_eq!(roff("a-b\\c"), "a\\-b\\\\c");
        assert_eq!(roff(".start"), "\\&.start");
    }
}
