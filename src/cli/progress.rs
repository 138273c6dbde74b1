//! Progress on the terminal: a live line per resource being worked on
//! (indicatif), or plain lines when output is not a terminal.

use crate::engine::progress::{Progress, Verb};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Draws progress on stderr.
pub struct Reporter {
    live: Option<MultiProgress>,
    running: Mutex<HashMap<String, (Instant, Option<ProgressBar>)>>,
}

impl Reporter {
    /// Live lines on a terminal, plain lines otherwise (or when `plain`).
    pub fn new(plain: bool) -> Reporter {
        let live = (!plain && std::io::stderr().is_terminal()).then(MultiProgress::new);
        Reporter {
            live,
            running: Mutex::new(HashMap::new()),
        }
    }

    fn line(&self, text: &str) {
        match &self.live {
            Some(mp) => {
                let _ = mp.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

fn symbol(verb: Verb) -> &'static str {
    match verb {
        Verb::Create => "+",
        Verb::Update => "~",
        Verb::Delete => "-",
    }
}

impl Progress for Reporter {
    fn start(&self, address: &str, verb: Verb) {
        let bar = self.live.as_ref().map(|mp| {
            let bar = mp.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                    .expect("valid template"),
            );
            bar.set_message(format!("{} {address}", verb.ing()));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if bar.is_none() {
            eprintln!("  {} {address} {}...", symbol(verb), verb.ing());
        }
        if let Ok(mut r) = self.running.lock() {
            r.insert(format!("{address}/{verb:?}"), (Instant::now(), bar));
        }
    }

    fn finish(&self, address: &str, verb: Verb, result: Result<&str, &str>) {
        let entry = self
            .running
            .lock()
            .ok()
            .and_then(|mut r| r.remove(&format!("{address}/{verb:?}")));
        let secs = entry
            .as_ref()
            .map_or(0.0, |(t, _)| t.elapsed().as_secs_f64());
        if let Some((_, Some(bar))) = entry {
            bar.finish_and_clear();
        }
        let text = match result {
            Ok("") => format!("  {} {address} {} ({secs:.1}s)", symbol(verb), verb.ed()),
            Ok(detail) => format!(
                "  {} {address} {} {detail} ({secs:.1}s)",
                symbol(verb),
                verb.ed()
            ),
            Err(e) => format!("  ! {address} {} failed after {secs:.1}s: {e}", verb.ing()),
        };
        self.line(&text);
    }

    fn note(&self, message: &str) {
        self.line(&format!("    {message}"));
    }
}
