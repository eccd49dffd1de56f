//! Prints confd's man page or a shell completion, generated from the flag table:
//! `cargo run -p confd --example gen-docs -- man|bash|zsh`.

fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    let text = match what.as_str() {
        "man" => confd::docs::man_page(env!("CARGO_PKG_VERSION")),
        "bash" => confd::docs::bash_completion(),
        "zsh" => confd::docs::zsh_completion(),
        _ => {
            eprintln!("usage: gen-docs man|bash|zsh");
            std::process::exit(2);
        }
    };
    print!("{text}");
}
