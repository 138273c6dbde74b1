//! The network picture of a lab from its declaration, with the IDs and
//! addresses its state knows: VPCs holding subnets holding instances, load
//! balancers and interfaces; internet gateways; route tables with their
//! routes; Elastic IPs; target groups; and what each security group lets
//! in, from where. Kinds that are no network (key pairs, buckets) stay out.

use super::{Cluster, Node, Picture, Style};
use crate::engine::decl::{Declaration, ResourceDecl};
use crate::engine::state::State;
use crate::engine::value::Value;

const INTERNET: &str = "internet";

struct Builder<'a> {
    decl: &'a Declaration,
    state: Option<&'a State>,
    p: Picture,
}

/// Addresses of the resources of `kind` that `v` refers to, in order.
fn refs_to(v: Option<&Value>, kind: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(v) = v {
        v.visit_refs(&mut |r| {
            if r.address.split_once('.').is_some_and(|(k, _)| k == kind)
                && !out.contains(&r.address)
            {
                out.push(r.address.clone());
            }
        });
    }
    out
}

fn all_refs_to(r: &ResourceDecl, kind: &str) -> Vec<String> {
    let mut out = Vec::new();
    for v in r.props.values() {
        for a in refs_to(Some(v), kind) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// "tcp 22", "udp 443", "tcp 30000-32767", "all".
fn rule_label(rule: &indexmap::IndexMap<String, Value>) -> String {
    let protocol = rule
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("tcp");
    let int = |k: &str| match rule.get(k) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    };
    let ports = match (int("port"), int("from_port"), int("to_port")) {
        (Some(p), _, _) => format!(" {p}"),
        (None, Some(a), Some(b)) if a == b => format!(" {a}"),
        (None, Some(a), Some(b)) => format!(" {a}-{b}"),
        _ => String::new(),
    };
    if protocol == "all" || protocol == "-1" {
        "all".into()
    } else {
        format!("{protocol}{ports}")
    }
}

impl<'a> Builder<'a> {
    fn resources(&self, kind: &str) -> Vec<(&'a String, &'a ResourceDecl)> {
        let decl = self.decl;
        (decl.resources.iter())
            .filter(|(_, r)| r.kind == kind)
            .collect()
    }

    /// A live attribute, else a literal property of the same name.
    fn attr(&self, address: &str, name: &str) -> Option<String> {
        let live = self
            .state
            .and_then(|s| s.attr(address, name))
            .and_then(|v| v.as_str().map(String::from))
            .filter(|v| !v.is_empty());
        live.or_else(|| {
            let r = self.decl.resources.get(address)?;
            r.props.get(name)?.as_str().map(String::from)
        })
    }

    /// The instance an interface is the primary interface of, if any.
    fn owner(&self, eni: &str) -> Option<String> {
        self.resources("instance")
            .into_iter()
            .find(|(_, r)| refs_to(r.props.get("network_interface"), "network_interface") == [eni])
            .map(|(a, _)| a.clone())
    }

    /// The node standing for a resource: an interface's instance, or itself.
    fn node_of(&self, address: &str) -> String {
        self.owner(address).unwrap_or_else(|| address.to_string())
    }

    /// The subnet or VPC a resource sits in.
    fn place(&self, address: &str) -> Option<String> {
        let r = self.decl.resources.get(address)?;
        let subnets = all_refs_to(r, "subnet");
        if let [one] = subnets.as_slice() {
            return Some(one.clone());
        }
        if let Some(first) = subnets.first() {
            return self.vpc_of(first);
        }
        if let Some(eni) = all_refs_to(r, "network_interface").first() {
            return self.place(eni);
        }
        all_refs_to(r, "vpc").first().cloned()
    }

    fn vpc_of(&self, subnet: &str) -> Option<String> {
        let r = self.decl.resources.get(subnet)?;
        refs_to(r.props.get("vpc"), "vpc").first().cloned()
    }

    fn internet(&mut self) -> String {
        if !self.p.nodes.iter().any(|n| n.id == INTERNET) {
            self.p.nodes.push(Node {
                id: INTERNET.into(),
                label: vec![INTERNET.into()],
                parent: None,
                round: true,
            });
        }
        INTERNET.into()
    }

    fn node(&mut self, id: &str, label: Vec<String>, parent: Option<String>) {
        self.p.nodes.push(Node {
            id: id.into(),
            label,
            parent,
            round: false,
        });
    }

    fn with_id(&self, address: &str, mut label: Vec<String>) -> Vec<String> {
        label.insert(0, address.to_string());
        if let Some(id) = self.attr(address, "id") {
            label.push(id);
        }
        label
    }

    fn clusters(&mut self) {
        for (a, _) in self.resources("vpc") {
            let label = self.with_id(a, self.attr(a, "cidr").into_iter().collect());
            self.p.clusters.push(Cluster {
                id: a.clone(),
                label,
                parent: None,
            });
        }
        for (a, _) in self.resources("subnet") {
            let mut label: Vec<String> = self.attr(a, "cidr").into_iter().collect();
            label.extend(self.attr(a, "az"));
            let label = self.with_id(a, label);
            let parent = self.vpc_of(a);
            self.p.clusters.push(Cluster {
                id: a.clone(),
                label,
                parent,
            });
        }
    }

    fn boxes(&mut self) {
        for (a, _) in self.resources("internet_gateway") {
            let label = self.with_id(a, vec![]);
            let place = self.place(a);
            self.node(a, label, place);
            let internet = self.internet();
            self.p.edge(&internet, a, "", Style::Attached);
        }
        for (a, r) in self.resources("instance") {
            let eni = refs_to(r.props.get("network_interface"), "network_interface");
            let mut label: Vec<String> = r
                .props
                .get("type")
                .and_then(Value::as_str)
                .map(String::from)
                .into_iter()
                .collect();
            let private = self
                .attr(a, "private_ip")
                .or_else(|| eni.first().and_then(|e| self.attr(e, "private_ip")));
            label.extend(private);
            label.extend(self.attr(a, "public_ip").map(|ip| format!("public {ip}")));
            let label = self.with_id(a, label);
            let place = self.place(a);
            self.node(a, label, place);
        }
        for (a, _) in self.resources("network_interface") {
            if self.owner(a).is_none() {
                let label = self.with_id(a, self.attr(a, "private_ip").into_iter().collect());
                let place = self.place(a);
                self.node(a, label, place);
            }
        }
        for (a, r) in self.resources("elastic_ip") {
            let label = self.with_id(a, self.attr(a, "public_ip").into_iter().collect());
            self.node(a, label, None);
            let internet = self.internet();
            self.p.edge(&internet, a, "", Style::Attached);
            let target = refs_to(r.props.get("network_interface"), "network_interface")
                .into_iter()
                .chain(refs_to(r.props.get("instance"), "instance"))
                .next();
            if let Some(t) = target {
                let t = self.node_of(&t);
                self.p.edge(a, &t, "", Style::Attached);
            }
        }
        for (a, r) in self.resources("load_balancer") {
            let mut label: Vec<String> = r
                .props
                .get("scheme")
                .and_then(Value::as_str)
                .map(String::from)
                .into_iter()
                .collect();
            if let Some(Value::List(maps)) = r.props.get("subnets") {
                label.extend(maps.iter().filter_map(|m| {
                    match m {
                        Value::Map(m) => m
                            .get("private_ip")
                            .and_then(Value::as_str)
                            .map(String::from),
                        _ => None,
                    }
                }));
            }
            label.extend(self.attr(a, "dns_name"));
            let label = self.with_id(a, label);
            let place = self.place(a);
            self.node(a, label, place);
        }
        for (a, r) in self.resources("target_group") {
            let port = match r.props.get("port") {
                Some(Value::Int(p)) => vec![format!("port {p}")],
                _ => vec![],
            };
            let label = self.with_id(a, port);
            let place = self.place(a);
            self.node(a, label, place);
        }
    }

    /// The node whose private address is `ip`.
    fn by_ip(&self, ip: &str) -> Option<String> {
        let candidates = self
            .resources("instance")
            .into_iter()
            .chain(self.resources("network_interface"));
        let found: Vec<String> = candidates
            .filter(|(a, _)| self.attr(a, "private_ip").as_deref() == Some(ip))
            .map(|(a, _)| self.node_of(a))
            .collect();
        found.into_iter().next()
    }

    fn arrows(&mut self) {
        for (a, r) in self.resources("route_table") {
            let mut routes = Vec::new();
            if let Some(Value::List(list)) = r.props.get("routes") {
                for route in list {
                    let Value::Map(m) = route else { continue };
                    let cidr = m
                        .get("cidr")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string();
                    let target = refs_to(m.get("gateway"), "internet_gateway")
                        .into_iter()
                        .chain(refs_to(m.get("network_interface"), "network_interface"))
                        .next();
                    if let Some(t) = target {
                        routes.push((cidr, self.node_of(&t)));
                    }
                }
            }
            let subnets = refs_to(r.props.get("subnets"), "subnet");
            let label: Vec<String> = (routes.iter())
                .map(|(cidr, t)| format!("{cidr} -> {t}"))
                .collect();
            let label = self.with_id(a, label);
            let place = match subnets.as_slice() {
                [one] => Some(one.clone()),
                _ => self.place(a),
            };
            let single = subnets.len() == 1;
            self.node(a, label, place);
            if !single {
                for s in &subnets {
                    self.p.edge(a, s, "associated", Style::Attached);
                }
            }
            for (cidr, t) in routes {
                self.p.edge(a, &t, cidr, Style::Route);
            }
        }
        for (a, r) in self.resources("target_group") {
            if let Some(Value::List(targets)) = r.props.get("targets") {
                for t in targets {
                    let Value::Map(m) = t else { continue };
                    let Some(ip) = m.get("ip").and_then(Value::as_str) else {
                        continue;
                    };
                    let port = match (m.get("port"), r.props.get("port")) {
                        (Some(Value::Int(p)), _) | (None, Some(Value::Int(p))) => {
                            format!("tcp {p}")
                        }
                        _ => String::new(),
                    };
                    let to = self.by_ip(ip).unwrap_or_else(|| {
                        self.p.nodes.push(Node {
                            id: ip.into(),
                            label: vec![ip.into()],
                            parent: None,
                            round: true,
                        });
                        ip.to_string()
                    });
                    self.p.edge(a, &to, port, Style::Route);
                }
            }
        }
        for (_, r) in self.resources("listener") {
            let lb = refs_to(r.props.get("load_balancer"), "load_balancer");
            let tg = refs_to(r.props.get("target_group"), "target_group");
            if let (Some(lb), Some(tg)) = (lb.first(), tg.first()) {
                let port = match r.props.get("port") {
                    Some(Value::Int(p)) => format!("listener :{p}"),
                    _ => "listener".into(),
                };
                self.p.edge(lb, tg, port, Style::Route);
            }
        }
        self.security_groups();
    }

    /// The nodes a security group applies to.
    fn members(&self, sg: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let decl = self.decl;
        for (a, r) in &decl.resources {
            if refs_to(r.props.get("security_groups"), "security_group")
                .iter()
                .any(|s| s == sg)
            {
                let n = self.node_of(a);
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Where a rule's `cidr` comes from: the internet, a subnet, or itself.
    fn cidr_source(&mut self, cidr: &Value) -> String {
        if let Some(subnet) = refs_to(Some(cidr), "subnet").first() {
            return subnet.clone();
        }
        let text = cidr.as_str().unwrap_or("?").to_string();
        if text == "0.0.0.0/0" {
            return self.internet();
        }
        let subnet = self
            .resources("subnet")
            .into_iter()
            .find(|(a, _)| self.attr(a, "cidr").as_deref() == Some(text.as_str()))
            .map(|(a, _)| a.clone());
        subnet.unwrap_or_else(|| {
            if !self.p.nodes.iter().any(|n| n.id == text) {
                self.p.nodes.push(Node {
                    id: text.clone(),
                    label: vec![text.clone()],
                    parent: None,
                    round: true,
                });
            }
            text
        })
    }

    fn security_groups(&mut self) {
        for (a, r) in self.resources("security_group") {
            let members = self.members(a);
            let Some(Value::List(rules)) = r.props.get("ingress") else {
                continue;
            };
            for rule in rules {
                let Value::Map(m) = rule else { continue };
                let label = rule_label(m);
                let mut sources = Vec::new();
                if let Some(cidr) = m.get("cidr") {
                    sources.push(self.cidr_source(cidr));
                }
                for sg in refs_to(m.get("source"), "security_group") {
                    sources.extend(self.members(&sg));
                }
                for s in &sources {
                    for to in &members {
                        self.p.edge(s, to, label.clone(), Style::Allows);
                    }
                }
            }
        }
    }
}

/// The network picture of a declared lab, with what its state knows.
pub fn picture(decl: &Declaration, state: Option<&State>) -> Picture {
    let mut b = Builder {
        decl,
        state,
        p: Picture {
            title: format!("lab {} ({})", decl.lab, decl.region),
            ..Picture::default()
        },
    };
    b.clusters();
    b.boxes();
    b.arrows();
    b.p
}
