-- azrp for Neovim: :AzrpRestorePoints {resource-group} {collection} and
-- :AzrpCreate {resource-group} {collection} {name}, answered in a floating
-- window with progress, without blocking the editor (lua/azrp/nvim.lua,
-- over azrp.loop.luv and vim.loop).  Put this directory on 'runtimepath'
-- (or copy this file into ~/.config/nvim/plugin/).  The client comes from
-- the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
-- AZURE_SUBSCRIPTION_ID) unless init.lua calls
-- require("azrp.nvim").setup{ ... } with azrp.client options.
if vim.g.loaded_azrp then return end
vim.g.loaded_azrp = true
require("azrp.nvim").commands()
