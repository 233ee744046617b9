-- :checkhealth glm_lsp — the usual reasons "nothing happens", each with what to do.
local M = {}

local DEFAULT_BASE_URL = "https://open.bigmodel.cn/api/paas/v4/"

--- Whether the server talks to GLM's own API (keys are <id>.<secret>) rather than a
--- self-hosted one (any token), decided as the server and `glm-lsp doctor` decide it.
local function glm_endpoint(settings, env)
  local provider = settings.provider or "auto"
  if provider ~= "auto" then
    return provider == "zai"
  end
  local url = env.GLM_LSP_BASE_URL
  if not url or vim.trim(url) == "" then
    url = settings.baseUrl or DEFAULT_BASE_URL
  end
  local host = (url:match("^%a+://%[?([^/%]:]+)") or ""):lower()
  for _, known in ipairs({ "bigmodel.cn", "z.ai" }) do
    if host == known or vim.endswith(host, "." .. known) then
      return true
    end
  end
  local path = (url:match("^%a+://[^/]+(/.*)$") or "/"):gsub("/?$", "/")
  return path:find("/api/paas/v4/", 1, true) ~= nil or path:find("/api/coding/paas/v4/", 1, true) ~= nil
end

function M.check()
  local health = vim.health
  local glm = require("glm_lsp")
  health.start("glm_lsp")

  if vim.fn.has("nvim-0.11") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.11 or newer is needed (vim.lsp.config / vim.lsp.enable)")
  end
  if vim.lsp.inline_completion then
    health.ok("inline completion (ghost text) is available")
  else
    health.info("Neovim < 0.12: completions arrive as completion items (<C-Space> or omnifunc)")
  end

  local cmd, problem = glm.server_command(glm.options.cmd)
  local exe = type(cmd) == "table" and cmd[1] or nil
  if exe then
    local version = vim.system({ exe, "--version" }, { text = true }):wait(5000)
    health.ok(("%s found: %s"):format(vim.fn.exepath(exe), vim.trim(version.stdout or "")))
  elseif cmd then
    health.ok("cmd is a function (an RPC client): not checked here")
  else
    health.error(problem)
  end

  local env = vim.tbl_extend("force", vim.fn.environ(), glm.options.cmd_env or {})
  local key_env = (glm.options.settings or {}).apiKeyEnv
  local names = key_env and { key_env } or { "BIGMODEL_API_KEY", "ZAI_API_KEY" }
  local found = vim.tbl_filter(function(name)
    return (env[name] or "") ~= ""
  end, names)
  local key = #found > 0 and vim.trim(env[found[1]]) or nil
  local self_hosted = not glm_endpoint(glm.options.settings or {}, env)
  if key and self_hosted then
    health.ok(("API key found in $%s (a self-hosted endpoint takes any token)"):format(found[1]))
  -- The shape `glm-lsp doctor` accepts for GLM's own API: <id>.<secret>
  elseif key and not key:match("^[%w_-][%w_-][%w_-][%w_-]+%.[%w_-][%w_-][%w_-][%w_-]+$") then
    health.error("the key in $" .. found[1] .. " does not look like <id>.<secret>", {
      "copy it again from the BigModel / Z.AI console",
      "then run `glm-lsp doctor` in a terminal to check key and endpoint",
    })
  elseif key then
    health.ok("API key found in $" .. found[1] .. " (run `glm-lsp doctor` to check it with GLM)")
  else
    health.warn("no API key in $" .. table.concat(names, " or $"), {
      "export BIGMODEL_API_KEY=... in the shell that starts Neovim",
      "then run `glm-lsp doctor` in a terminal to check key and endpoint",
    })
  end

  if glm.client() then
    health.ok("glm-lsp is running")
    return
  end
  local open = vim.tbl_filter(function(bufnr)
    return vim.bo[bufnr].buftype == "" and vim.api.nvim_buf_get_name(bufnr) ~= ""
  end, vim.api.nvim_list_bufs())
  if #open == 0 then
    health.info("glm-lsp is not running yet: open a file (see also :checkhealth vim.lsp)")
  else
    local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(open[1]), ":.")
    health.warn(("glm-lsp is not running, although %s is open"):format(name), {
      "see the errors above and :checkhealth vim.lsp",
      "the server's messages are in " .. vim.lsp.log.get_filename(),
    })
  end
end

return M
