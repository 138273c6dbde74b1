--- The API endpoint for free: HAProxy, run by podman on the lab's gateway,
--- passing TCP on :6443 to the control nodes' API servers and taking a node
--- out while its /readyz fails. Chosen over nftables DNAT, which costs as
--- little but cannot check health: with DNAT a stopped API server still gets
--- its share of connections, and kubeadm join or kubectl fail at random.
--- (`--var lb=nlb` is the write-up's NLB instead: api_lb.nlb.)
local api_lb = {}

--- HAProxy's image, pinned to a minor release of the LTS branch.
api_lb.IMAGE = "docker.io/library/haproxy:3.2-alpine"

--- haproxy.cfg: TCP on `port`, round robin over `servers` ({ { name, ip }, ... }),
--- each checked with an HTTPS GET /readyz (no certificate check: the check only
--- asks whether the API server is ready; clients verify the server themselves).
function api_lb.config(opts)
  local port = opts.port or 6443
  local lines = {
    "global",
    "  log stdout format raw local0",
    "defaults",
    "  mode tcp",
    "  log global",
    "  option tcplog",
    "  timeout connect 5s",
    "  timeout client 1h",
    "  timeout server 1h",
    "frontend kube-apiserver",
    "  bind :" .. port,
    "  default_backend control-plane",
    "backend control-plane",
    "  balance roundrobin",
    "  option httpchk GET /readyz",
    "  http-check expect status 200",
    "  default-server check check-ssl verify none inter 3s fall 3 rise 2",
  }
  for _, s in ipairs(opts.servers) do
    lines[#lines + 1] = ("  server %s %s:%d"):format(s.name, s.ip, port)
  end
  lines[#lines + 1] = ""
  return table.concat(lines, "\n")
end

--- The gateway's Butane part (a table, fcos 1.6.0): haproxy.cfg and the unit
--- that runs HAProxy on the host network. opts: servers, port (6443).
function api_lb.butane(opts)
  return {
    variant = "fcos", version = "1.6.0",
    storage = { files = { {
      path = "/etc/haproxy/haproxy.cfg", mode = tonumber("0644", 8), contents = { inline = api_lb.config(opts) },
    } } },
    systemd = { units = { {
      name = "api-lb.service", enabled = true,
      contents = table.concat({
        "[Unit]",
        "Description=HAProxy in front of the Kubernetes API servers",
        "Wants=network-online.target",
        "After=network-online.target",
        "[Service]",
        "ExecStartPre=-/usr/bin/podman rm --force api-lb",
        "ExecStart=/usr/bin/podman run --name api-lb --rm --network host "
          .. "--volume /etc/haproxy:/usr/local/etc/haproxy:ro,Z " .. api_lb.IMAGE,
        "ExecStop=/usr/bin/podman stop --time 5 api-lb",
        "Restart=always",
        "RestartSec=5",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      }, "\n"),
    } } },
  }
end

--- The write-up's endpoint instead: an internal network load balancer at the fixed
--- address `ip` of `subnet`, passing TCP on `port` (6443) to the API servers of `nodes`
--- (IP targets, checked by TCP every 10 s), with a security group letting in `from`
--- (a CIDR). $0.0225/h before capacity units; internal, so no public IPv4 of its own.
--- Returns { load_balancer, target_group, security_group } (handles).
function api_lb.nlb(lab, opts)
  local port = opts.port or 6443
  local sg = lab:security_group("api", {
    vpc = opts.vpc,
    ingress = { { protocol = "tcp", port = port, cidr = opts.from, description = "API through the load balancer" } },
  })
  local lb = lab:load_balancer("api", {
    subnets = { { subnet = opts.subnet, private_ip = opts.ip } }, security_groups = { sg },
  })
  local targets = {}
  for i, n in ipairs(opts.nodes) do targets[i] = { ip = n.ip } end
  local group = lab:target_group("api", {
    vpc = opts.vpc, port = port, targets = targets,
    health_check = { interval = 10, timeout = 5, healthy_threshold = 2, unhealthy_threshold = 2 },
  })
  lab:listener("api", { load_balancer = lb, port = port, target_group = group })
  return { load_balancer = lb, target_group = group, security_group = sg }
end

return api_lb
