--- YAML text of Lua tables, in the shape Kubernetes tools print: keys sorted,
--- two-space indents, lists of maps as "- key: ...", strings double-quoted only
--- where plain YAML would read them as something else.
local yaml = {}

--- A table used as an empty list (Lua cannot tell `{}` as a list from a map).
yaml.EMPTY_LIST = setmetatable({}, { __name = "yaml.EMPTY_LIST" })
--- A table used as an empty map.
yaml.EMPTY_MAP = setmetatable({}, { __name = "yaml.EMPTY_MAP" })

local function is_list(t)
  if t == yaml.EMPTY_LIST then return true end
  if t == yaml.EMPTY_MAP then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n > 0 and n == #t
end

--- Plain scalars YAML 1.1 or 1.2 would read as a number, boolean or null, or that
--- hold YAML syntax, are quoted (JSON's double-quoted strings are YAML too).
local function scalar(v)
  if type(v) == "boolean" or type(v) == "number" then return tostring(v) end
  local s = tostring(v)
  local plain = s:match("^[%w/][%w%./_:,=%-]*$") and not s:match(":$") and not s:find(": ", 1, true)
    and not s:match("^[%d%.%-+:_]+$") and not s:match("^0[xob]") and not tonumber(s)
  local lower = s:lower()
  for _, word in ipairs { "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~" } do
    if lower == word then plain = false end
  end
  if plain then return s end
  return labrun.json.encode(s)
end

local emit

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then error("kube.yaml: map keys must be strings, got " .. type(k), 0) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

--- Appends the lines of `v` (a map or list) at `indent` spaces.
emit = function(lines, v, indent)
  local pad = string.rep(" ", indent)
  if is_list(v) then
    for _, item in ipairs(v) do
      if type(item) == "table" and not is_list(item) and next(item) ~= nil then
        local sub = {}
        emit(sub, item, indent + 2)
        sub[1] = pad .. "- " .. sub[1]:sub(indent + 3)
        for _, line in ipairs(sub) do lines[#lines + 1] = line end
      elseif type(item) == "table" then
        lines[#lines + 1] = pad .. "- " .. (is_list(item) and "[]" or "{}")
      else
        lines[#lines + 1] = pad .. "- " .. scalar(item)
      end
    end
    return
  end
  for _, k in ipairs(sorted_keys(v)) do
    local item = v[k]
    if type(item) == "table" and next(item) == nil then
      lines[#lines + 1] = pad .. scalar(k) .. ": " .. (is_list(item) and "[]" or "{}")
    elseif type(item) == "table" then
      lines[#lines + 1] = pad .. scalar(k) .. ":"
      -- lists of a map sit at the map's own indent, as kubectl prints them
      emit(lines, item, is_list(item) and indent or indent + 2)
    else
      lines[#lines + 1] = pad .. scalar(k) .. ": " .. scalar(item)
    end
  end
end

--- The YAML document of `t` (a map), ending with a newline.
function yaml.encode(t)
  local lines = {}
  emit(lines, t, 0)
  return table.concat(lines, "\n") .. "\n"
end

--- Several documents separated by "---".
function yaml.documents(list)
  local docs = {}
  for i, t in ipairs(list) do docs[i] = yaml.encode(t) end
  return table.concat(docs, "---\n")
end

return yaml
