//! The man page and shell completions of `confd-register`, generated from the option tables
//! the parser uses and the usage texts it prints (`--help`, `docker --help`), so they cannot
//! drift from what the binary accepts. `cargo run -p confd-register --example gen-docs --
//! man|bash|zsh` prints them; the Debian package installs them.

use crate::cli::{AGENT_OPTIONS, COMMON_OPTIONS, DOCKER_OPTIONS, DOCKER_USAGE, USAGE};

/// `confd-register(1)` in roff: the two usage texts as they are printed.
pub fn man_page(version: &str) -> String {
    format!(
        ".TH CONFD-REGISTER 1 \"\" \"confd-rs {version}\" \"User Commands\"\n\
         .SH NAME\nconfd\\-register \\- register a healthy service instance, or Docker's healthy labelled containers, in etcd under a lease\n\
         .SH SYNOPSIS\n.B confd\\-register\n[\\fIoptions\\fR]\n.br\n.B confd\\-register docker\n[\\fIoptions\\fR]\n\
         .SH AGENT MODE\n.nf\n{}\n.fi\n\
         .SH DOCKER MODE\n.nf\n{}\n.fi\n\
         .SH SEE ALSO\n.BR confd (1),\n.BR etcd (1)\n",
        roff_block(USAGE),
        roff_block(DOCKER_USAGE)
    )
}

/// Preformatted text for roff: backslashes and hyphens escaped, lines that roff would take
/// for requests protected.
fn roff_block(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| {
            let l = l.replace('\\', "\\\\").replace('-', "\\-");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn options(list: &[&[&str]], flags: &[&str]) -> String {
    let mut all: Vec<String> =
        list.iter().flat_map(|l| l.iter()).map(|o| format!("--{o}")).collect();
    all.extend(flags.iter().map(|f| f.to_string()));
    all.join(" ")
}

/// Completion for bash: `docker`, the options of the mode in use, and paths for file options.
pub fn bash_completion() -> String {
    format!(
        r#"# bash completion for confd-register (confd-rs), generated from its option tables
_confd_register() {{
    local cur prev
    cur=${{COMP_WORDS[COMP_CWORD]}}
    prev=${{COMP_WORDS[COMP_CWORD-1]}}
    case $prev in
        --password-file|--client-ca-keys|--client-cert|--client-key)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --address)
            COMPREPLY=($(compgen -W "container host" -- "$cur")); return ;;
    esac
    if [[ " ${{COMP_WORDS[*]}} " == *" docker "* ]]; then
        COMPREPLY=($(compgen -W "{docker}" -- "$cur"))
    elif ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "docker {agent}" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "{agent}" -- "$cur"))
    fi
}}
complete -F _confd_register confd-register
"#,
        agent = options(&[COMMON_OPTIONS, AGENT_OPTIONS], &["--help", "--version"]),
        docker = options(&[COMMON_OPTIONS, DOCKER_OPTIONS], &["--help"])
    )
}

/// Completion for zsh (`#compdef confd-register`).
pub fn zsh_completion() -> String {
    let agent = options(&[COMMON_OPTIONS, AGENT_OPTIONS], &["--help", "--version"]);
    let docker = options(&[COMMON_OPTIONS, DOCKER_OPTIONS], &["--help"]);
    format!(
        "#compdef confd-register\n\
         # zsh completion for confd-register (confd-rs), generated from its option tables\n\
         if (( ${{words[(I)docker]}} )); then\n  compadd -- {docker}\n\
         elif (( CURRENT == 2 )); then\n  compadd -- docker {agent}\n\
         else\n  compadd -- {agent}\nfi\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option the parser accepts is in the usage it prints (and so in the man page).
    #[test]
    fn the_usage_documents_every_option() {
        for o in COMMON_OPTIONS.iter().chain(AGENT_OPTIONS) {
            assert!(USAGE.contains(&format!("--{o} ")), "--{o} is not in --help");
        }
        for o in COMMON_OPTIONS.iter().chain(DOCKER_OPTIONS) {
            let documented = DOCKER_USAGE.contains(&format!("--{o} "))
                || (COMMON_OPTIONS.contains(o) && USAGE.contains(&format!("--{o} ")));
            assert!(documented, "--{o} is not in docker --help");
        }
        let man = man_page("0");
        assert!(man.contains("\\-\\-start\\-interval"));
        assert!(bash_completion().contains("--start-interval"));
        assert!(zsh_completion().contains("--docker-host"));
    }
}
