//! The `labrun` command line.

mod butane;
mod check;
mod docs;
pub(crate) mod down;
mod graph;
mod kubeconfig;
mod labs;
mod pki;
pub(crate) mod plan_view;
mod progress;
mod proxy;
mod render;
mod repl;
mod ssh;
pub(crate) mod status;
pub(crate) mod up;
mod wg;

use crate::lua::error::ScriptError;
use crate::lua::modules;
use crate::session::resolve::{find_script, looks_like_path};
use crate::session::{self, InputError};
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Cheap, throw-away AWS labs from Lua scripts.
#[derive(Parser, Debug)]
#[command(name = "labrun", version = VERSION, about, long_about = None, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More detail on stderr (-v: what labrun does, -vv: debugging); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

/// `labrun --version`: the release and the commit it was built from.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("LABRUN_COMMIT"), ")");

/// Logs on stderr: RUST_LOG if set, else by -v/-q; colour only on a
/// terminal and never with NO_COLOR.
fn init_logging(verbose: u8, quiet: bool) {
    use std::io::IsTerminal;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        // The SDK's credential chain warns about every source it tries;
        // labrun says itself what to do when none works.
        (false, 0) => "warn,aws_config=error",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}

const AFTER_HELP: &str = "`labrun LAB.lua` is `labrun up LAB.lua`.\n\
LAB is a path to a script, or a name looked up as NAME.lua in ./labs, in LABRUN_PATH, then among the built-in labs (`labrun labs`).\n\
State lives in $LABRUN_HOME (default: the XDG state directory).\n\
Exit codes: 0 success, 1 failure talking to AWS or a node, 2 bad input (nothing created).";

#[derive(Subcommand, Debug)]
enum Command {
    /// Create or update a lab to match its script.
    Up(UpArgs),
    /// Show what `up` would do and what the lab costs; needs no AWS credentials.
    Plan(LabArgs),
    /// Destroy everything of a lab, then check that nothing tagged with it is left.
    Down(DownArgs),
    /// Show a lab's resources, uptime and cost so far.
    Status(StatusArgs),
    /// List labs with their uptime and cost.
    Ls(LsArgs),
    /// Draw a lab: its network (VPC, subnets, routes, gateways, instances, security groups) or, with --deps, its dependency graph.
    Graph(GraphArgs),
    /// Run the checks a lab declares against it (exit 1 if any fails); --watch repeats them.
    Check(check::CheckArgs),
    /// Run a command on a lab node over SSH (through its jump host), or open a shell.
    Ssh(SshArgs),
    /// Serve SOCKS5 on 127.0.0.1 through the lab's gateway (its kubeconfig's proxy-url), or run CMD while it serves.
    Proxy(proxy::ProxyArgs),
    /// Print the path of a lab's kubeconfig (files/admin.conf in its folder).
    Kubeconfig(kubeconfig::KubeconfigArgs),
    /// Write every file a lab generates into DIR, offline: per node, its Ignition config and Butane source.
    Render(RenderArgs),
    /// Translate a Butane config to Ignition (a drop-in for the official `butane` CLI).
    Butane(ButaneArgs),
    /// Look at a lab's keys and certificates.
    #[command(subcommand)]
    Pki(PkiCommand),
    /// Print a WireGuard client config of a lab that is up, or draw it as a QR code.
    Wg(WgArgs),
    /// List the labs there are (built in, ./labs, LABRUN_PATH) with their cost per hour.
    Labs(LabsArgs),
    /// Copy a built-in lab into a file to edit (no rebuild needed to run it).
    New(NewArgs),
    /// Write .luarc.json so LuaLS completes and checks labrun scripts.
    Setup(SetupArgs),
    /// An interactive Lua prompt, with a lab's live state and nodes at hand when LAB is given.
    Repl(ReplArgs),
    /// Print a shell completion script (e.g. `labrun completions bash > /etc/bash_completion.d/labrun`).
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `labrun man | man -l -`.
    Man,
}

#[derive(Args, Debug)]
struct ReplArgs {
    /// Lab script path or name: its script run, its state and nodes loaded.
    lab: Option<String>,
    /// Set a lab variable read by labrun.var (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
}

#[derive(Args, Debug)]
struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// What `labrun graph` prints.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// SVG, drawn by Graphviz `dot`.
    Svg,
    /// A Mermaid flowchart.
    Mermaid,
    /// Indented text.
    Text,
}

#[derive(Args, Debug)]
struct GraphArgs {
    /// Lab script path or name.
    lab: String,
    /// Set a lab variable read by labrun.var (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// The dependency graph as JSON.
    #[arg(long)]
    json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    /// The dependency graph in the stages an apply runs (with its longest chain) instead of the network.
    #[arg(long)]
    deps: bool,
}

#[derive(Args, Debug)]
struct LabsArgs {
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct NewArgs {
    /// A built-in lab, e.g. nat.
    lab: String,
    /// Where to write it (default: ./LAB.lua); never overwritten.
    file: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
struct SetupArgs {
    /// The folder of your labs.
    #[arg(default_value = ".")]
    dir: std::path::PathBuf,
}

#[derive(Subcommand, Debug)]
enum PkiCommand {
    /// Summarize a lab's certificates from its stored secrets (like `kubeadm certs check-expiration`), or one in detail.
    Show(PkiShowArgs),
    /// Make the lab's PKI anew and apply it (= `labrun up LAB --renew-pki`): asks first, keeps a dated backup.
    Renew(UpArgs),
}

#[derive(Args, Debug)]
struct PkiShowArgs {
    /// Lab name or script.
    lab: String,
    /// A certificate or key of the lab, e.g. `etcd/ca`.
    name: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct WgArgs {
    /// Lab name or script.
    lab: String,
    /// The client (needed when the lab has several).
    client: Option<String>,
    /// Draw the config as a QR code in the terminal, for the WireGuard mobile app.
    #[arg(long)]
    qr: bool,
    /// Write the config's QR code as a PNG (mode 0600: it holds the client's private key).
    #[arg(long, value_name = "FILE")]
    qr_png: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
struct LabArgs {
    /// Lab script path or name.
    lab: String,
    /// Set a lab variable read by labrun.var (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Machine-readable output: one JSON document on stdout, prose on stderr.
    #[arg(long)]
    json: bool,
    /// Show unchanged resources in the plan too.
    #[arg(long)]
    all: bool,
    /// Make every key and certificate of the lab's PKI anew (other secrets are kept).
    #[arg(long)]
    renew_pki: bool,
    /// Make the lab's WireGuard keys anew (its SSH user key and PKI are kept).
    #[arg(long)]
    renew_keys: bool,
    /// Ignore the images and versions the lab pinned (lock.json) and pin what is current.
    #[arg(long)]
    upgrade: bool,
}

impl LabArgs {
    /// Whether keys are to be made anew.
    fn renews(&self) -> bool {
        self.renew_pki || self.renew_keys
    }

    /// How to open the lab for `up` (`applying`) or for a look. A look
    /// saves keys it had to make but never a renewal or an upgrade, so it
    /// does not replace what the lab holds.
    fn options(&self, applying: bool) -> session::Options {
        let renew = [
            (self.renew_pki, modules::pki::SECRET),
            (self.renew_keys, modules::wireguard::SECRET),
        ];
        let renew: Vec<&str> = renew.into_iter().filter(|r| r.0).map(|r| r.1).collect();
        session::Options {
            vars: self.vars.iter().cloned().collect(),
            ttl: None,
            // `up` saves a renewal itself, once the user agreed.
            save_secrets: if applying {
                renew.is_empty()
            } else {
                renew.is_empty() && !self.upgrade
            },
            renew,
            upgrade: self.upgrade,
            price_only: false,
        }
    }
}

#[derive(Args, Debug)]
struct UpArgs {
    #[command(flatten)]
    lab: LabArgs,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Operations in flight at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallelism: u16,
    /// Do not run the lab's checks at the end (`labrun check` runs them).
    #[arg(long, env = "LABRUN_NO_CHECKS")]
    no_checks: bool,
    /// Time to live, e.g. 4h: the lab's instances power off (and terminate) by themselves then; a fresh expiry from now.
    #[arg(long, value_parser = humantime::parse_duration)]
    ttl: Option<std::time::Duration>,
}

#[derive(Args, Debug)]
struct DownArgs {
    /// Lab name or script.
    #[arg(required_unless_present = "expired", conflicts_with = "expired")]
    lab: Option<String>,
    /// Destroy every lab of this state directory whose TTL has passed.
    #[arg(long)]
    expired: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Region to sweep when no state tells it (default: the script's, else the SDK's: AWS_REGION, the profile).
    #[arg(long)]
    region: Option<String>,
    /// Operations in flight at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallelism: u16,
    /// How long a delete waits for what still uses a resource (e.g. 90s, 5m).
    #[arg(long, default_value = "20m", value_parser = humantime::parse_duration)]
    wait: std::time::Duration,
}

#[derive(Args, Debug)]
struct StatusArgs {
    /// Lab name or script.
    lab: String,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct LsArgs {
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Region to look for labs by their `labrun:lab` tag (repeatable; default: the AWS configuration's and those of the local labs).
    #[arg(long)]
    region: Vec<String>,
    /// Only the labs with a state here: no AWS call.
    #[arg(long)]
    local: bool,
}

#[derive(Args, Debug)]
struct SshArgs {
    /// Lab name.
    lab: String,
    /// Node name (see `labrun status`).
    node: String,
    /// Seconds to keep trying while the node boots.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Command to run; without one, an interactive shell.
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(Args, Debug)]
struct RenderArgs {
    #[command(flatten)]
    lab: LabArgs,
    /// Folder to write into (created if missing).
    dir: std::path::PathBuf,
}

#[derive(Args, Debug)]
struct ButaneArgs {
    /// Butane config to read (default: standard input).
    input: Option<std::path::PathBuf>,
    /// Folder that `local:` contents and trees are read from.
    #[arg(long, short = 'd', value_name = "FILES_DIR")]
    files_dir: Option<std::path::PathBuf>,
    /// Write the Ignition config here (default: standard output).
    #[arg(long, short = 'o', value_name = "OUT")]
    output: Option<std::path::PathBuf>,
    /// Fail on warnings.
    #[arg(long, short = 's')]
    strict: bool,
    /// Indent the output.
    #[arg(long, short = 'p')]
    pretty: bool,
    /// Check the config without producing output.
    #[arg(long, short = 'c')]
    check: bool,
    /// Never wrap in a MachineConfig (fcos configs never are; accepted for compatibility).
    #[arg(long, short = 'r')]
    raw: bool,
    /// Print the version of Butane this command matches, and exit.
    #[arg(long, short = 'V')]
    version: bool,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not KEY=VALUE"))?;
    if k.is_empty() {
        return Err(format!("'{s}' has an empty KEY"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// `labrun LAB.lua ...` means `labrun up LAB.lua ...` when the first word
/// is no command but a script or a lab; any other unknown word is left for
/// clap to refuse (with a suggestion).
fn with_default_command(mut args: Vec<String>) -> Vec<String> {
    if let Some(first) = args.get(1)
        && !first.starts_with('-')
        && first != "help"
        && Cli::command().find_subcommand(first).is_none()
        && (looks_like_path(first) || find_script(first).is_some())
    {
        args.insert(1, "up".into());
    }
    args
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_command(std::env::args().collect()));
    init_logging(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up(a) => up::up(a).await,
            Command::Plan(a) => up::plan(a),
            Command::Down(a) => down::down(a).await,
            Command::Status(a) => status::status(a),
            Command::Ls(a) => status::ls(a).await,
            Command::Render(a) => render::render(a),
            Command::Pki(PkiCommand::Show(a)) => pki::show(a),
            Command::Pki(PkiCommand::Renew(mut a)) => {
                a.lab.renew_pki = true;
                up::up(a).await
            }
            Command::Ssh(a) => ssh::ssh(a).await,
            Command::Check(a) => check::check(a).await,
            Command::Proxy(a) => proxy::proxy(a).await,
            Command::Kubeconfig(a) => kubeconfig::kubeconfig(a),
            Command::Graph(a) => graph::graph(a),
            Command::Butane(a) => butane::butane(a),
            Command::Wg(a) => wg::wg(a),
            Command::Labs(a) => labs::labs(a),
            Command::New(a) => labs::new(a),
            Command::Setup(a) => labs::setup(a),
            Command::Repl(a) => repl::repl(a).await,
            Command::Completions(a) => docs::completions(a),
            Command::Man => docs::man(),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            let input = e.downcast_ref::<ScriptError>().is_some()
                || e.downcast_ref::<InputError>().is_some();
            eprintln!("error: {e:#}");
            ExitCode::from(if input { 2 } else { 1 })
        }
    }
}

/// Asks for confirmation on a terminal; without one, `--yes` is required.
pub(crate) fn confirm(question: &str, yes: bool) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(InputError(format!(
            "{question} Not on a terminal: pass --yes to confirm."
        ))
        .into());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
