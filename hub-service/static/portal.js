// wod portal: small progressive enhancements; every page works without them.
(function () {
  'use strict';
  var canCopy = !!(navigator.clipboard && window.isSecureContext);
  // the buttons' words, in the page's language (partials/top.ejs)
  var texts = document.body.dataset;

  function copy(text, done) {
    navigator.clipboard.writeText(text).then(done, function () {});
  }

  // Share links: "Link" becomes "Copy link" when the browser can copy.
  if (canCopy) {
    document.querySelectorAll('a.copy[data-copy]').forEach(function (a) {
      a.textContent = texts.textCopyLink;
      a.addEventListener('click', function (e) {
        e.preventDefault();
        copy(a.getAttribute('data-copy'), function () {
          a.textContent = texts.textLinkCopied;
          a.classList.add('copied');
          setTimeout(function () {
            a.textContent = texts.textCopyLink;
            a.classList.remove('copied');
          }, 2500);
        });
      });
    });
    document.querySelectorAll('button[data-copy-from]').forEach(function (b) {
      var input = document.getElementById(b.getAttribute('data-copy-from'));
      if (!input) return;
      b.hidden = false;
      b.addEventListener('click', function () {
        copy(input.value, function () {
          b.textContent = texts.textCopied;
          setTimeout(function () {
            b.textContent = texts.textCopy;
          }, 2500);
        });
      });
    });
  }
  document.querySelectorAll('input[readonly][id="share-url"]').forEach(function (i) {
    i.addEventListener('focus', function () {
      i.select();
    });
  });

  // A status page being prepared reloads itself, unless the reader has started on one of its forms.
  var refreshing = document.querySelector('[data-refresh-seconds]');
  if (refreshing) {
    var touched = false;
    refreshing.addEventListener('input', function () {
      touched = true;
    });
    setTimeout(
      function () {
        if (!touched) window.location.reload();
      },
      Number(refreshing.getAttribute('data-refresh-seconds')) * 1000,
    );
  }

  // Deadlines are written in UTC; show them in the reader's own time zone as well.
  document.querySelectorAll('time[data-local][datetime]').forEach(function (t) {
    var d = new Date(t.getAttribute('datetime'));
    if (isNaN(d.getTime())) return;
    t.title = t.textContent;
    t.textContent = d.toLocaleString(document.documentElement.lang || undefined, {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
    });
  });
})();
