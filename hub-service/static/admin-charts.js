/* global uPlot, fetch */
// wod admin: the dashboard's charts, drawn with uPlot (served by wod itself, never a CDN) from the
// admin API's figures (GET needs no CSRF token: the session cookie does). Each chart's caption says
// its figures in words, for whoever does not see the canvas.
(function () {
  'use strict';
  const section = document.getElementById('charts');
  if (!section || typeof uPlot === 'undefined') return;
  const status = document.querySelector('[data-testid="charts-status"]');
  const COLOURS = ['#01a982', '#4c7fe0', '#f0a830', '#b3261e', '#7630ea'];
  const HEIGHT = 220;
  const bars = (size) => uPlot.paths.bars({ size: [size, 60] });

  const chart = (name) => section.querySelector(`[data-chart="${name}"]`);
  function caption(name, text) {
    chart(name).querySelector('figcaption .summary').textContent = text;
  }
  function draw(name, opts, data) {
    const figure = chart(name);
    const box = figure.querySelector('.plot');
    box.replaceChildren();
    new uPlot({ width: Math.max(240, box.clientWidth), height: HEIGHT, ...opts }, data, box);
    figure.dataset.drawn = 'true';
  }
  /** Bucket start times (seconds, as uPlot's time scale wants them) of a series. */
  const times = (s, n) => Array.from({ length: n }, (_, i) => Date.parse(s.start) / 1000 + i * s.stepSeconds);
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const pct = (v) => (v === null ? null : Math.round(v * 100));
  const secs = (v) => (v === null ? '–' : v < 120 ? `${Math.round(v)} s` : `${(v / 60).toFixed(1)} min`);

  /** Scales over time buckets: half a bucket spare at each end, so the first and last bars show whole; y from 0. */
  const overTime = (s) => ({
    x: { time: true, range: (_u, min, max) => [min - s.stepSeconds / 2, max + s.stepSeconds / 2] },
    y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
  });
  const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

  /** A chart over categories (workshops): x is 0..n-1, its ticks are the names. */
  function categories(labels, opts) {
    return {
      ...opts,
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, ...opts.scales },
      axes: [{ incrs: [1], values: (_u, splits) => splits.map((i) => labels[i] ?? '') }, ...opts.axes.slice(1)],
    };
  }

  function registrations(name, s, label) {
    draw(
      name,
      {
        scales: overTime(s),
        series: [{}, { label, stroke: COLOURS[0], fill: `${COLOURS[0]}66`, paths: bars(0.7), points: { show: false } }],
        axes: [{}, { label: 'registrations', incrs: WHOLE }],
      },
      [times(s, s.counts.length), s.counts],
    );
  }

  function render(stats) {
    const day = stats.registrations.lastDay;
    const month = stats.registrations.lastMonth;
    registrations('registrations-day', day, 'per hour');
    caption('registrations-day', `${sum(day.counts)} in the last 24 hours, ${Math.max(...day.counts)} at most in one hour.`);
    registrations('registrations-month', month, 'per day');
    caption('registrations-month', `${sum(month.counts)} in the last 30 days, ${Math.max(...month.counts)} at most in one day.`);

    const p = stats.provision.byDay;
    const series = ['p50', 'p90', 'p95'].map((k, i) => ({ label: k, stroke: COLOURS[i], width: 2, spanGaps: true, points: { show: true, size: 7 }, value: (_u, v) => secs(v) }));
    draw('provision', { scales: overTime(p), series: [{}, ...series], axes: [{}, { label: 'seconds', size: 60 }] }, [
      times(p, p.days.length),
      ...['p50', 'p90', 'p95'].map((k) => p.days.map((d) => d[k])),
    ]);
    const o = stats.provision.overall;
    caption(
      'provision',
      o.n ? `Over ${o.n} registrations: half were ready within ${secs(o.p50)}, 90 % within ${secs(o.p90)}, 95 % within ${secs(o.p95)}.` : 'No registration was ready yet.',
    );

    const c = stats.completion;
    draw(
      'completion',
      categories(
        c.map((w) => w.folder),
        {
          scales: { y: { range: [0, 100] } },
          series: [
            { value: (_u, i) => c[i]?.folder ?? '–' },
            { label: 'mean completion %', stroke: COLOURS[1], fill: `${COLOURS[1]}88`, paths: bars(0.6), points: { show: false } },
            { label: 'finished every cell %', stroke: COLOURS[0], fill: COLOURS[0], paths: bars(0.3), points: { show: false } },
          ],
          axes: [{}, { label: '%' }],
        },
      ),
      [c.map((_w, i) => i), c.map((w) => pct(w.meanCompletion)), c.map((w) => pct(w.finishedShare))],
    );
    caption(
      'completion',
      c.map((w) => (w.measured ? `${w.folder}: ${pct(w.meanCompletion)} % on average over ${w.measured}, ${w.finished} finished` : `${w.folder}: none measured yet`)).join('; ') +
        '.',
    );

    // Stacked by drawing: the bar of "rated 5 or less" first, each lower rating over it, so every
    // colour is one rating's share; the legend shows each rating's own count.
    const s = stats.surveys;
    const upTo = (k) => s.map((w) => sum(w.ratings.slice(0, k)));
    draw(
      'surveys',
      categories(
        s.map((w) => w.folder),
        {
          series: [
            { value: (_u, i) => s[i]?.folder ?? '–' },
            ...[5, 4, 3, 2, 1].map((k) => ({
              label: `rated ${k}`,
              stroke: COLOURS[5 - k],
              fill: COLOURS[5 - k],
              paths: bars(0.6),
              points: { show: false },
              value: (_u, _v, _si, i) => (i === null || !s[i] ? '–' : String(s[i].ratings[k - 1])),
            })),
          ],
          axes: [{}, { label: 'answers', incrs: WHOLE }],
        },
      ),
      [s.map((_w, i) => i), ...[5, 4, 3, 2, 1].map(upTo)],
    );
    caption(
      'surveys',
      s
        .map((w) => (w.answers ? `${w.folder}: ${w.answers} answer${w.answers === 1 ? '' : 's'}, ${w.meanRating.toFixed(1)} / 5 on average` : `${w.folder}: no answer yet`))
        .join('; ') + '.',
    );
    status.textContent = `Figures of ${stats.now.replace('T', ' ').slice(0, 16)} UTC.`;
  }

  fetch(section.dataset.statsUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
    .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`HTTP ${res.status}`))))
    .then(render)
    .catch((e) => {
      status.textContent = `The charts could not be drawn (${e.message}): reload the page to try again.`;
      status.setAttribute('role', 'alert');
    });
})();
