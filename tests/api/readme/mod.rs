//! README cannot drift (issue 31): its walk-through and its county's day,
//! with the parts of the day that live in docs/ (a second county's ledgers
//! in docs/ledgers.md, a decline in docs/matching.md), run against a fresh
//! demo server as the text writes them, must print what the text quotes.
//!
//! The test reads README (or the docs page) as it goes. It finds each
//! command in the text in order (so a command that the text no longer shows
//! fails the test), runs the CLI commands with the text's own arguments,
//! makes its gRPC calls through the generated client, and compares the
//! output it quotes under each command (its `#   ` lines) with what the
//! server answered. A quoted line may leave parts out with `...`; a remark on it follows
//! three spaces and a bracket (`   (the third tier)`), and a line that is a
//! remark as a whole starts with a bracket. A change that moves a figure
//! fails here until the text says the new one.

mod day;
mod ledgers;
mod steps;
mod tokens;
mod walk;

use std::path::Path;
use std::process::Command;

use crate::common::TestServer;
use jobbridge::config::Config;

/// README (or a page of docs/), and a cursor that walks it from top to
/// bottom.
pub struct Readme {
    /// The file, from the crate's root.
    file: &'static str,
    lines: Vec<String>,
    /// The line after the last command found.
    at: usize,
    /// The `#   ` lines under the last command found.
    quoted: Vec<String>,
}

impl Readme {
    pub fn load() -> Readme {
        Readme::open("README.md")
    }

    /// `file`, a path from the crate's root (`docs/ledgers.md`).
    pub fn open(file: &'static str) -> Readme {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {file}: {e}"));
        Readme {
            file,
            lines: text.lines().map(str::to_string).collect(),
            at: 0,
            quoted: Vec::new(),
        }
    }

    /// Moves the cursor to the heading `heading` (the whole line).
    pub fn section(&mut self, heading: &str) {
        self.at = self
            .lines
            .iter()
            .position(|l| l == heading)
            .unwrap_or_else(|| panic!("{} has no heading {heading:?}", self.file));
    }

    /// The first line at or after the cursor that contains `fragment`
    /// (with the lines a trailing `\` continues), and the cursor after it.
    /// Its quoted output is then [`Readme::quote`].
    pub fn command(&mut self, fragment: &str) -> String {
        let start = (self.at..self.lines.len())
            .find(|&i| self.lines[i].contains(fragment))
            .unwrap_or_else(|| {
                panic!(
                    "{} no longer has {fragment:?} after line {} (or it moved)",
                    self.file,
                    self.at + 1
                )
            });
        let mut command = String::new();
        let mut i = start;
        loop {
            let line = self.lines[i].trim_end();
            match line.strip_suffix('\\') {
                Some(head) => {
                    command.push_str(head);
                    command.push(' ');
                    i += 1;
                }
                None => {
                    command.push_str(line);
                    break;
                }
            }
        }
        self.at = i + 1;
        self.quoted = self.lines[self.at..]
            .iter()
            .map_while(|l| l.strip_prefix("#   "))
            .map(str::trim)
            .filter(|l| !l.starts_with('('))
            .map(|l| match l.find("   (") {
                Some(remark) => l[..remark].trim_end().to_string(),
                None => l.to_string(),
            })
            .collect();
        command
    }

    /// The JSON a command sends with `-d '...'`, written over several lines
    /// up to the first line at or after the cursor that contains `end` (the
    /// command's last line; call before [`Readme::command`] finds it).
    pub fn data(&self, end: &str) -> serde_json::Value {
        let last = (self.at..self.lines.len())
            .find(|&i| self.lines[i].contains(end))
            .unwrap_or_else(|| panic!("{} no longer has {end:?}", self.file));
        let first = (self.at..=last)
            .rev()
            .find(|&i| self.lines[i].contains("-d '"))
            .unwrap_or_else(|| panic!("{} sends no -d '...' before {end:?}", self.file));
        let text = self.lines[first..=last].join("\n");
        let body = &text[text.find("-d '").unwrap() + 4..];
        let body = &body[..body.find('\'').expect("the closing quote of -d")];
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{}: {e}: {body}", self.file))
    }

    /// The output README quotes under the last command found.
    pub fn quote(&self) -> &[String] {
        assert!(
            !self.quoted.is_empty(),
            "{} quotes no output under line {}",
            self.file,
            self.at
        );
        &self.quoted
    }

    /// The text after `before` up to the next `until`, from the first line
    /// at or after the cursor that has `before`: a figure README names in
    /// a sentence rather than under a command.
    pub fn between(&self, before: &str, until: char) -> String {
        let line = self.lines[self.at..]
            .iter()
            .find(|l| l.contains(before))
            .unwrap_or_else(|| panic!("{} no longer says {before:?}", self.file));
        let rest = &line[line.find(before).unwrap() + before.len()..];
        rest.split(until).next().unwrap().to_string()
    }
}

/// Collapses runs of white space to one space.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Each quoted line must be in `output`: its parts between `...` in
/// order (a `...` may stand for the end of a line), white space aside.
pub fn assert_quoted(quote: &[String], output: &str) {
    let whole = squeeze(output);
    for q in quote {
        let mut rest = whole.as_str();
        let found = q
            .split("...")
            .map(squeeze)
            .filter(|p| !p.is_empty())
            .all(|p| match rest.find(p.as_str()) {
                Some(i) => {
                    rest = &rest[i + p.len()..];
                    true
                }
                None => false,
            });
        assert!(found, "README quotes {q:?}, but the output is:\n{output}");
    }
}

/// The status README quotes (`Code: X  Message: Y`, on one line or two;
/// either part may be left out) must be `status`.
pub fn assert_status(quote: &[String], status: &tonic::Status) {
    let text = squeeze(&quote.join(" "));
    if let Some(i) = text.find("Code: ") {
        let code = text[i + 6..].split_whitespace().next().unwrap();
        assert_eq!(
            code,
            format!("{:?}", status.code()),
            "README's code; the server said {status:?}"
        );
    }
    let i = text
        .find("Message: ")
        .unwrap_or_else(|| panic!("README quotes no message in {text:?}"));
    assert_eq!(
        &text[i + 9..],
        squeeze(status.message()),
        "README's message"
    );
}

/// Every `"field": value` README quotes must be among `reply`'s, which
/// are written as grpcurl prints them (`("created", "true")`,
/// `("id", "\"431224/w-demo-1\"")`; 64-bit integers are strings in JSON).
pub fn assert_fields(quote: &[String], reply: &[(&str, String)]) {
    let text = quote.join(" ");
    let mut quoted = 0;
    let mut rest = text.as_str();
    while let Some(i) = rest.find("\": ") {
        let key = rest[..i].rsplit('"').next().unwrap();
        let after = &rest[i + 3..];
        let value = if let Some(s) = after.strip_prefix('"') {
            format!("\"{}\"", &s[..s.find('"').unwrap()])
        } else {
            after
                .split([',', '}', ' ', ']'])
                .next()
                .unwrap()
                .to_string()
        };
        rest = after;
        if value.starts_with('[') || value.starts_with('{') || value.is_empty() {
            continue;
        }
        quoted += 1;
        assert!(
            reply.iter().any(|(k, v)| *k == key && *v == value),
            "README quotes \"{key}\": {value}, but the reply has {reply:?}"
        );
    }
    assert!(quoted > 0, "README quotes no field in {text:?}");
}

/// A server over a fresh demo data set, as `serve --demo` writes it (the
/// same scale and seed), without the schedule or the rate limit.
pub async fn demo_server(dir: &Path) -> TestServer {
    let store = crate::common::reopen(dir);
    let key = jobbridge::store::id_key(None, None, &store).unwrap().0;
    jobbridge::launch::write_demo(&store, &key, 1.0, 1).expect("write the demo data");
    TestServer::start_on(store, Config::in_process()).await
}

/// What a command printed.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    /// stdout, then stderr.
    pub all: String,
}

/// Runs a README command line (`cargo run --release -- ARGS`, or the same
/// inside `NAME=$(...)`) with the built binary in `cwd`, against `server`,
/// with `$NAME` replaced by `tokens`' values.
pub fn run_cli(command: &str, cwd: &Path, server: &TestServer, tokens: &[(&str, &str)]) -> Output {
    let args = command
        .split_once("cargo run --release -- ")
        .unwrap_or_else(|| panic!("not a `cargo run` line: {command}"))
        .1;
    let args = match command.contains("=$(cargo run") {
        true => args.trim_end().strip_suffix(')').expect("$(...) closed"),
        false => args,
    };
    let args: Vec<String> = shell_words(args)
        .into_iter()
        .map(|a| {
            let a = a.replace("127.0.0.1:50051", &server.addr.to_string());
            match tokens.iter().find(|(name, _)| a == format!("${name}")) {
                Some((_, value)) => value.to_string(),
                None => a,
            }
        })
        .collect();
    let out = Command::new(crate::common::binary())
        .args(&args)
        .current_dir(cwd)
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("JOBBRIDGE_TOKEN")
        .env("NO_COLOR", "1")
        .output()
        .expect("run jobbridge");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout,
        all,
    }
}

/// Splits a shell line into words: blanks separate, quotes group, and a
/// `#` starting a word begins a comment.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    w.push(q);
                }
            }
            '#' if word.is_none() => break,
            c if c.is_whitespace() => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// README's exit-code table lists the codes `cli::exit` gives, in order
/// (`operating::exit_codes_follow_the_table_whatever_the_command`
/// provokes each class).
#[test]
fn the_exit_code_table_has_the_codes_of_the_binary() {
    use jobbridge::cli::exit;
    let md = Readme::load();
    let start = md
        .lines
        .iter()
        .position(|l| l == "| code | meaning | examples |")
        .expect("README has the exit-code table");
    let codes: Vec<u8> = md.lines[start + 2..]
        .iter()
        .map_while(|l| l.strip_prefix("| "))
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            0,
            exit::USAGE,
            exit::DATA,
            exit::UNAVAILABLE,
            exit::INTERNAL
        ]
    );
}
