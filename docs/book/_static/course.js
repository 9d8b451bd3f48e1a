// The course website's own script; docs/book/course_book.py adds it to every page.

document.addEventListener("DOMContentLoaded", () => {
  // Phone navigation. pydata-sphinx-theme 0.17.1 binds its sidebar buttons with querySelector, i.e. only the
  // first `.primary-toggle` and `.secondary-toggle` on the page: a hidden header icon, not the buttons
  // sphinx-book-theme shows. Each other such button hands its click to that first one, which opens the menu.
  for (const kind of ["primary", "secondary"]) {
    const [bound, ...unbound] = document.querySelectorAll(`.${kind}-toggle`);
    for (const button of unbound) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }

  // Figures: each output picture links to its full-size file, so a reader on a phone can open it and zoom.
  for (const img of document.querySelectorAll("div.cell_output img")) {
    if (img.closest("a")) continue;
    const link = document.createElement("a");
    link.href = img.src;
    link.target = "_blank";
    link.className = "course-figure";
    link.title = "Open the figure at full size";
    img.replaceWith(link);
    link.appendChild(img);
    const hint = document.createElement("p");
    hint.className = "course-figure-hint";
    hint.textContent = "Tap the figure to open it at full size.";
    link.after(hint);
  }
});
