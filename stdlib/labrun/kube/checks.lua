--- Checks that a Kubernetes lab's control plane works, run after `up` and by
--- `labrun check LAB`. Both Kubernetes labs declare them with one line:
---
---   require("labrun.kube.checks").declare { nodes = nodes, network = network }
---
--- The checks (asked on the first control node, with the files the lab gave it):
---   etcd          every member answers healthy over mTLS: `etcdctl endpoint health`
---                 with the lab's etcd client certificate (apiserver-etcd-client), run
---                 in the pinned etcd image, so the node needs no etcdctl of its own
---   api-servers   each node's API server answers /readyz, its certificate checked
---                 against the lab's CA
---   api-endpoint  /readyz through the API endpoint (HAProxy on the gateway) by the
---                 name the kubeconfigs use, with the admin kubeconfig of the nodes
---   leases        kube-scheduler and kube-controller-manager each hold their leader
---                 lease and renewed it within its duration
---   kubeconfig    from this machine, the user's kubeconfig reaches the API the way
---                 the README says: `labrun proxy LAB -- kubectl get --raw /readyz`
---                 (or kubectl alone through a `labrun proxy LAB` already running)
--- and the gateway's NAT checks for the control nodes (labrun.net.check_nat).
local net, etcd = require "labrun.net", require "labrun.kube.etcd"
local checks = {}

--- Where the lab puts the PKI on every control node.
checks.PKI = "/etc/kubernetes/pki"
--- kubectl as admin on a node, wherever the install put it.
checks.KUBECTL = "sudo env PATH=/usr/local/bin:/usr/bin kubectl --kubeconfig=/etc/kubernetes/admin.conf "

--- The command that asks every member of `nodes` for its health, as JSON.
function checks.etcd_health_command(nodes, image)
  local endpoints = {}
  for i, n in ipairs(nodes) do endpoints[i] = ("https://%s:2379"):format(n.ip) end
  return table.concat({
    "sudo podman run --rm --network host --security-opt label=disable",
    ("-v %s:%s:ro"):format(checks.PKI, checks.PKI),
    image or etcd.IMAGE,
    "etcdctl --dial-timeout=5s --command-timeout=10s",
    "--endpoints=" .. table.concat(endpoints, ","),
    ("--cacert=%s/etcd/ca.crt"):format(checks.PKI),
    ("--cert=%s/apiserver-etcd-client.crt"):format(checks.PKI),
    ("--key=%s/apiserver-etcd-client.key"):format(checks.PKI),
    "endpoint health -w json",
  }, " ")
end

--- Seconds since 1970 of an RFC 3339 time in UTC ("2025-01-31T12:00:00.123456Z").
function checks.epoch(time)
  local y, m, d, hh, mm, ss = time:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)")
  if not y then return nil end
  y, m = tonumber(y), tonumber(m)
  -- days from civil (Howard Hinnant's algorithm)
  if m <= 2 then y = y - 1 end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + tonumber(d) - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
end

local first_line, last_line = net.first_line, net.last_line

--- What a command that should have printed "ok" (its result `r`) said instead.
local function not_ok(r)
  if not r.ok then return last_line(r.stderr, ("exit %d, no message"):format(r.status)) end
  return first_line(r.stdout, "nothing")
end

--- Why `etcdctl endpoint health -w json` (its result `r`) is not all healthy, or nil.
function checks.etcd_problems(r)
  local ok, health = pcall(labrun.json.decode, r.stdout)
  if not ok or type(health) ~= "table" or #health == 0 then
    return ("etcdctl failed (exit %d): %s"):format(r.status, last_line(r.stderr ~= "" and r.stderr or r.stdout, "no message"))
  end
  local sick = {}
  for _, e in ipairs(health) do
    if e.health ~= true then
      sick[#sick + 1] = ("%s is unhealthy: %s"):format(e.endpoint, e.error or "no error given")
    end
  end
  if #sick > 0 then return table.concat(sick, "; ") end
  if not r.ok then return ("etcdctl failed (exit %d): %s"):format(r.status, last_line(r.stderr, "no message")) end
end

--- Why the leases (`kubectl get lease -o json` output `json`, the node's clock `now`) are
--- not held, or nil.
function checks.lease_problems(json, now, wanted)
  local held = {}
  for _, lease in ipairs(labrun.json.decode(json).items or {}) do held[lease.metadata.name] = lease.spec end
  local problems = {}
  for _, name in ipairs(wanted) do
    local spec = held[name]
    local renewed = spec and spec.renewTime and checks.epoch(spec.renewTime)
    if not spec or (spec.holderIdentity or "") == "" then
      problems[#problems + 1] = name .. " holds no lease"
    elseif not renewed or now - renewed > (spec.leaseDurationSeconds or 15) then
      problems[#problems + 1] = ("%s's lease (held by %s) was last renewed %s, %s s ago"):format(
        name, spec.holderIdentity, tostring(spec.renewTime), renewed and tostring(now - renewed) or "?")
    end
  end
  if #problems > 0 then return table.concat(problems, "; ") end
end

--- Declares the checks above. opts:
---   nodes     the control nodes ({ { name, ip }, ... }); the first one asks
---   network   labrun.kube.lab.network's result (its gateway and API endpoint)
function checks.declare(opts)
  local nodes, api = opts.nodes, opts.network.api
  local asker = nodes[1].name
  local cacert = "--cacert " .. checks.PKI .. "/ca.crt"

  labrun.check("etcd", function(live)
    local r = live.nodes[asker]:run(checks.etcd_health_command(nodes), { check = false, timeout = 150 })
    return checks.etcd_problems(r)
  end, { timeout = 180 })

  labrun.check("api-servers", function(live)
    local sick = {}
    for _, n in ipairs(nodes) do
      local r = live.nodes[asker]:run(("curl -sS --max-time 10 %s https://%s:6443/readyz"):format(cacert, n.ip),
                                      { check = false })
      if not r.ok or first_line(r.stdout) ~= "ok" then
        sick[#sick + 1] = ("%s: %s"):format(n.name, not_ok(r))
      end
    end
    if #sick > 0 then return "not ready: " .. table.concat(sick, "; ") end
  end, { after = "etcd" })

  labrun.check("api-endpoint", function(live)
    local r = live.nodes[asker]:run(checks.KUBECTL .. "get --raw /readyz", { check = false, timeout = 30 })
    if not r.ok or first_line(r.stdout) ~= "ok" then
      return ("https://%s:%d/readyz: %s"):format(api.name, api.port, not_ok(r))
    end
  end, { after = "etcd" })

  labrun.check("leases", function(live)
    local node = live.nodes[asker]
    local json = node:run(checks.KUBECTL .. "-n kube-system get lease -o json").stdout
    local now = tonumber(first_line(node:run("date -u +%s").stdout))
    return checks.lease_problems(json, now, { "kube-scheduler", "kube-controller-manager" })
  end, { after = "api-endpoint" })

  labrun.check("kubeconfig", function(live)
    local here, readyz = live.here, { "get", "--raw", "/readyz" }
    local r = here:run({ here.labrun, "proxy", live.lab, "--", "kubectl", table.unpack(readyz) },
                       { check = false, timeout = 60 })
    if r.status == 2 and r.stderr:find("running already", 1, true) then
      -- the user's own proxy serves the lab: kubectl alone goes through it
      local path = first_line(here:run({ here.labrun, "kubeconfig", live.lab }).stdout)
      r = here:run({ "kubectl", "--kubeconfig", path, table.unpack(readyz) }, { check = false, timeout = 30 })
    end
    if not r.ok or first_line(r.stdout) ~= "ok" then
      return ("kubectl get --raw /readyz through `labrun proxy %s` on this machine: %s"):format(
        live.lab, not_ok(r))
    end
  end, { after = "api-endpoint", timeout = 90 })

  local names = {}
  for i, n in ipairs(nodes) do names[i] = n.name end
  net.check_nat(opts.network.gateway, { gateway = "gateway", nodes = names })
end

return checks
