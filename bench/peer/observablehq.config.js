// The peer for the benchmark: the Figure 6 report page made with Observable Framework.
// Offline: no Google Fonts stylesheet, and Plot and d3-dsv come from node_modules (not the npm: CDN).
export default {
  root: "src",
  title: "ReasonFlux-PRM results",
  pages: [],
  sidebar: false,
  toc: false,
  pager: false,
  search: false,
  footer: "",
  globalStylesheets: []
};
