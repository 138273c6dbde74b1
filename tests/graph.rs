//! `labrun graph`: every shipped lab drawn by Graphviz and parsed by
//! Mermaid's own parser; the NAT lab's network as text, before and after
//! it is up; the pictures in docs/.

mod common;

use common::{Labrun, Moto, feed, repo, text};
use std::path::PathBuf;
use std::process::Command;

fn shipped_labs() -> Vec<String> {
    let mut labs: Vec<String> = std::fs::read_dir(repo().join("labs"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".lua")
                .map(String::from)
        })
        .collect();
    labs.sort();
    assert!(labs.len() >= 3, "{labs:?}");
    labs
}

fn graph(labrun: &Labrun, args: &[&str]) -> String {
    let mut full = vec!["graph"];
    full.extend_from_slice(args);
    let out = labrun.run(&full);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// `dot -Tsvg` of `dot`: the SVG, drawn without a warning.
fn render(dot: &str) -> String {
    let out = feed("dot", &["-Tsvg"], dot);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "dot -Tsvg: {}\n{dot}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn graphviz_draws_every_shipped_lab_network_and_dependencies() {
    let labrun = Labrun::offline();
    for lab in shipped_labs() {
        let svg = render(&graph(&labrun, &[&lab, "--format", "dot"]));
        assert!(svg.contains("<svg") && svg.contains("vpc.lab"), "{lab}");
        let deps = graph(&labrun, &[&lab, "--deps", "--format", "dot"]);
        assert!(deps.starts_with("// longest chain ("), "{deps}");
        assert!(render(&deps).contains("<svg"), "{lab}");
    }
    // labrun draws SVG itself when dot is installed ...
    let svg = graph(&labrun, &["nat", "--format", "svg"]);
    assert!(
        svg.contains("<svg") && svg.contains("instance.gateway"),
        "{svg}"
    );
    // ... and says what to install when it is not.
    let out = labrun
        .command(&["graph", "nat", "--format", "svg"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("apt-get install graphviz"),
        "{}",
        text(&out)
    );
}

#[test]
fn mermaid_parses_every_shipped_lab() {
    let labrun = Labrun::offline();
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<PathBuf> = Vec::new();
    for lab in shipped_labs() {
        for (suffix, extra) in [("network", None), ("deps", Some("--deps"))] {
            let mut args = vec![lab.as_str(), "--format", "mermaid"];
            args.extend(extra);
            let path = dir.path().join(format!("{lab}-{suffix}.mmd"));
            std::fs::write(&path, graph(&labrun, &args)).unwrap();
            files.push(path);
        }
    }
    let mermaid = PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/labrun/mermaid");
    assert!(
        mermaid.join("node_modules/mermaid").is_dir(),
        "the Mermaid parser is missing: run .ci/setup"
    );
    let out = Command::new("node")
        .arg(repo().join("tests/support/mermaid_parse.mjs"))
        .args(&files)
        .env("LABRUN_MERMAID_DIR", &mermaid)
        .output()
        .expect("node (Debian package nodejs; .ci/setup installs it)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report
            .lines()
            .filter(|l| l.ends_with(": flowchart-v2"))
            .count(),
        files.len(),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nat_network_as_text_with_live_addresses_once_up() {
    let offline = graph(&Labrun::offline(), &["nat", "--format", "text"]);
    for line in [
        "    subnet.gateway  10.10.31.0/24",
        "      instance.gateway  t4g.nano  10.10.31.10",
        "  route_table.gateway-routes -> instance.gateway: 0.0.0.0/0",
        "  route_table.gateway -> internet_gateway.gateway: 0.0.0.0/0",
        "  203.0.113.7/32 -> instance.gateway: tcp 22",
        "  subnet.instances -> instance.gateway: all",
        "  subnet.gateway -> instance.instance-01: tcp 22",
        "  elastic_ip.gateway -> instance.gateway",
    ] {
        assert!(
            offline.lines().any(|l| l == line),
            "no {line:?} in\n{offline}"
        );
    }
    let moto = Moto::start();
    let labrun = Labrun::new(&moto);
    let out = labrun.run(&["up", "nat", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let live = graph(&labrun, &["nat", "--format", "text"]);
    let line = |prefix: &str| {
        live.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{live}"))
            .to_string()
    };
    assert!(line("vpc.lab ").contains(" vpc-"), "{live}");
    assert!(
        line("instance.instance-01 ").contains("  10.10.16."),
        "{live}"
    );
    assert!(line("instance.instance-01 ").contains("  i-"), "{live}");
    assert!(line("elastic_ip.gateway ").contains("eipalloc-"), "{live}");
}

#[test]
fn docs_hold_a_picture_of_every_shipped_lab_linked_from_the_readme() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for lab in shipped_labs() {
        let svg = std::fs::read_to_string(repo().join(format!("docs/{lab}.svg")))
            .unwrap_or_else(|e| panic!("docs/{lab}.svg: {e} (labrun graph {lab} --format svg)"));
        assert!(
            svg.contains("<svg") && svg.contains("vpc.lab"),
            "docs/{lab}.svg"
        );
        assert!(
            readme.contains(&format!("(docs/{lab}.svg)")),
            "README links docs/{lab}.svg"
        );
    }
}
