// MathJax reads this before it loads: typeset the \( \) and \[ \] spans that
// pymdownx.arithmatex (generic mode) writes, and re-typeset on instant navigation.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};

// tex-svg.js has no output cache to clear; wait for MathJax's own start-up,
// then typeset each page that Material's instant navigation swaps in.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => {
    if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) {
      return;
    }
    MathJax.startup.promise = MathJax.startup.promise.then(() => {
      MathJax.typesetClear();
      MathJax.texReset();
      return MathJax.typesetPromise();
    });
  });
}
