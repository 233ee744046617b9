-- The Neovim config of the editor tests: only the shipped plugin, set up as the README says.
vim.opt.runtimepath:prepend(vim.env.GLM_TEST_PLUGIN_DIR)
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"

local settings = vim.env.GLM_TEST_SETTINGS and vim.json.decode(vim.env.GLM_TEST_SETTINGS) or nil
-- GLM_TEST_SERVER unset: no `cmd`, as in the README's minimal setup (the plugin looks).
local cmd = vim.env.GLM_TEST_SERVER and { vim.env.GLM_TEST_SERVER } or nil
require("glm_lsp").setup({ cmd = cmd, settings = settings })
