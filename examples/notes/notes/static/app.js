// Notes: the editor's live word counter.
//
// Inside flaskdesk the count comes from Python (`word_count`, exposed in notes/desktop.py) through
// `flaskdesk.api`; in a plain browser the page counts by itself, so it works either way.
"use strict";

(() => {
  const countHere = (text) => text.split(/\s+/).filter(Boolean).length;
  const label = (n) => `${n} ${n === 1 ? "word" : "words"}`;

  const countWords = async (text) => {
    const api = window.flaskdesk && window.flaskdesk.api;
    if (api && typeof api.word_count === "function") {
      try {
        return await api.word_count(text);
      } catch (error) {
        console.warn("word_count through flaskdesk failed; counting in the page", error);
      }
    }
    return countHere(text);
  };

  const attachCounter = (textarea) => {
    const output = document.getElementById(textarea.dataset.wordCount);
    if (!output) return;
    let latest = 0; // answers can arrive out of order: show only the newest
    let timer = null;
    const update = async () => {
      const ticket = ++latest;
      const n = await countWords(textarea.value);
      if (ticket === latest) output.textContent = label(n);
    };
    textarea.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(update, 120);
    });
    update();
  };

  const start = () => document.querySelectorAll("textarea[data-word-count]").forEach(attachCounter);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
