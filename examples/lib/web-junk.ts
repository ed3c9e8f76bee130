/**
 * Web noise of the kind OpenWebMath's filters leave around the maths: boilerplate (cookie banners, menus, share
 * bars, footers), tables of numbers, mojibake of real text, code dumps, and ids/hashes/tracking URLs. Built from
 * templates and the page's own text (so it reads like a real page), not from random bytes.
 */
import type { Rng } from "./random.ts";

export type JunkKind = "boilerplate" | "table" | "mojibake" | "code" | "ids";
export const JUNK_KINDS: readonly JunkKind[] = ["boilerplate", "table", "mojibake", "code", "ids"];

export interface PageContext {
  site: string;
  /** A few content words of the page, used in titles, breadcrumbs and slugs. */
  topic: string[];
  /** The clean text of the page (mojibake garbles a piece of it). */
  text: string;
  year: number;
}

export const SITES = [
  "mathhelpforum.example",
  "homework-answers.example",
  "studyhub.example",
  "tutorpoint.example",
  "mathpages.example",
  "qa.learnmath.example",
  "k12-resources.example",
  "openstudy.example",
];

const NAV = [
  "Home",
  "About",
  "Contact",
  "Blog",
  "Forum",
  "Courses",
  "Login",
  "Sign up",
  "Search",
  "Resources",
  "FAQ",
  "Privacy Policy",
  "Terms of Use",
  "Help",
];
const SOCIAL = ["Facebook", "Twitter", "LinkedIn", "Reddit", "Pinterest", "WhatsApp", "Email", "Print"];

function cookieBanner(rng: Rng, ctx: PageContext): string {
  return rng.pick([
    `We use cookies to improve your experience on ${ctx.site}. By continuing to browse, you agree to our use of cookies. Accept all | Reject | Manage preferences`,
    "This website uses cookies to ensure you get the best experience on our website. Learn more\nGot it!",
    `Cookie settings: Strictly necessary cookies are always on. Analytics cookies help ${ctx.site} understand how visitors use the site. [Accept] [Decline]`,
  ]);
}

function navMenu(rng: Rng, ctx: PageContext): string {
  const items = rng.shuffle(NAV).slice(0, rng.int(5, 9));
  const sep = rng.pick([" | ", " · ", "\n", "  ", " » "]);
  const crumbs = `Home > ${rng.pick(["Algebra", "Arithmetic", "Word Problems", "Homework Help", "Math"])} > ${ctx.topic.slice(0, 3).join(" ")}`;
  return rng.chance(0.5) ? items.join(sep) : `${items.join(sep)}\n${crumbs}`;
}

function shareBar(rng: Rng): string {
  const n = rng.int(3, 6);
  return `${rng.pick(["Share this:", "Share", "Share this post", "Like this:"])}\n${rng.shuffle(SOCIAL).slice(0, n).join("\n")}\n${rng.pick(["Like Loading...", `${rng.int(2, 900)} views`, "Related"])}`;
}

function footer(rng: Rng, ctx: PageContext): string {
  return rng.pick([
    `© ${ctx.year} ${ctx.site}. All rights reserved. | Privacy Policy | Terms of Service | Sitemap`,
    `Copyright © 2008-${ctx.year} ${ctx.site} Powered by WordPress | Theme by ThemeGrill`,
    `Posted by admin at ${rng.int(1, 12)}:${String(rng.int(0, 59)).padStart(2, "0")} PM ${rng.int(0, 40)} comments\nSubscribe to: Post Comments (Atom)`,
    `Sign up for our newsletter! Enter your email address: Subscribe\nFollow us on ${rng.pick(SOCIAL)}\n© ${ctx.year} ${ctx.site}`,
    `Previous post: ${ctx.topic.slice(0, 2).join(" ")} explained\nNext post: Practice test ${rng.int(1, 20)}\nLeave a Reply Cancel reply\nYour email address will not be published. Required fields are marked *`,
  ]);
}

function boilerplate(rng: Rng, ctx: PageContext): string {
  return rng.pick([cookieBanner, navMenu, shareBar, footer])(rng, ctx);
}

function numberTable(rng: Rng): string {
  const kind = rng.int(0, 2);
  const rows = rng.int(4, 9);
  const lines: string[] = [];
  if (kind === 0) {
    lines.push(
      "| Year | Revenue ($M) | Growth (%) | Employees |",
      "|------|-------------|-----------|-----------|",
    );
    let revenue = rng.int(50, 900);
    for (let r = 0; r < rows; r++) {
      const growth = (rng.next() * 30 - 8).toFixed(1);
      revenue = Math.max(1, Math.round(revenue * (1 + Number(growth) / 100)));
      lines.push(`| ${2005 + r} | ${revenue.toLocaleString("en-US")} | ${growth} | ${rng.int(100, 9000)} |`);
    }
  } else if (kind === 1) {
    lines.push("Date,Open,High,Low,Close,Volume");
    let price = rng.int(20, 400) + rng.next();
    for (let r = 0; r < rows; r++) {
      const open = price;
      price = Math.max(1, price * (1 + (rng.next() - 0.5) / 10));
      const hi = Math.max(open, price) * (1 + rng.next() / 50);
      const lo = Math.min(open, price) * (1 - rng.next() / 50);
      lines.push(
        `2019-${String(rng.int(1, 12)).padStart(2, "0")}-${String(rng.int(1, 28)).padStart(2, "0")},${open.toFixed(2)},${hi.toFixed(2)},${lo.toFixed(2)},${price.toFixed(2)},${rng.int(10000, 9999999)}`,
      );
    }
  } else {
    const cols = rng.int(4, 7);
    for (let r = 0; r < rows; r++) {
      const cells: string[] = [];
      for (let c = 0; c < cols; c++)
        cells.push(rng.chance(0.3) ? rng.next().toFixed(4) : String(rng.int(0, 9999)));
      lines.push(cells.join("\t"));
    }
  }
  return lines.join("\n");
}

/** Typographic variants a CMS would produce, so the garbled text has multi-byte characters to garble. */
function typographize(text: string): string {
  return text
    .replace(/'/g, "’")
    .replace(/"([^"]*)"/g, "“$1”")
    .replace(/ - /g, " – ")
    .replace(/(\d) ?\* ?(\d)/g, "$1 × $2")
    .replace(/(\d) ?\/ ?(\d)/g, "$1 ÷ $2")
    .replace(/ degrees/g, "°")
    .replace(/\.\.\./g, "…")
    .replace(/cafe/gi, "café");
}

const FOREIGN = [
  "Übungsaufgaben für Schüler: Lösungen und Erklärungen zur Bruchrechnung.",
  "Résumé du cours : équations du premier degré, exercices corrigés.",
  "Matemáticas básicas: ¿cómo se resuelve una ecuación lineal?",
  "Задачи по математике для 5 класса с ответами.",
  "数学の問題と解答（小学生向け）",
];

/** Real text garbled the classic way: its UTF-8 bytes read back as Windows-1252 ("’" → "â€™"). */
export function mojibake(text: string): string {
  return new TextDecoder("windows-1252").decode(new TextEncoder().encode(text));
}

function garbled(rng: Rng, ctx: PageContext): string {
  const sentences = ctx.text.split(/(?<=[.?!])\s+/).filter((s) => s.length > 20);
  const source = rng.chance(0.6) && sentences.length ? typographize(rng.pick(sentences)) : rng.pick(FOREIGN);
  return mojibake(rng.chance(0.5) ? `“${source}”` : source);
}

function codeDump(rng: Rng, ctx: PageContext): string {
  const id = `UA-${rng.int(1000000, 9999999)}-${rng.int(1, 9)}`;
  return rng.pick([
    `(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){(i[r].q=i[r].q||[]).push(arguments)},i[r].l=1*new Date();a=s.createElement(o),m=s.getElementsByTagName(o)[0];a.async=1;a.src=g;m.parentNode.insertBefore(a,m)})(window,document,'script','//www.google-analytics.com/analytics.js','ga');ga('create', '${id}', 'auto');ga('send', 'pageview');`,
    `.entry-content{margin:0 auto;max-width:${rng.int(600, 1200)}px}.sidebar .widget{padding:${rng.int(4, 20)}px;border:1px solid #${rng.hex(6)}}@media (max-width:768px){.nav-menu{display:none}}`,
    `<div class="post-meta"><span class="author">admin</span><span class="date">${ctx.year}-${String(rng.int(1, 12)).padStart(2, "0")}-${String(rng.int(1, 28)).padStart(2, "0")}</span></div><script type="text/javascript">var disqus_shortname = '${ctx.site.split(".")[0]}';</script>`,
    `{"@context":"https://schema.org","@type":"QAPage","mainEntity":{"@type":"Question","name":"${ctx.topic.join(" ")}","answerCount":${rng.int(1, 9)},"dateCreated":"${ctx.year}-0${rng.int(1, 9)}-1${rng.int(0, 9)}T0${rng.int(0, 9)}:${rng.int(10, 59)}:00Z"}}`,
    `MathJax.Hub.Config({tex2jax: {inlineMath: [['$','$'], ['\\\\(','\\\\)']], processEscapes: true}, "HTML-CSS": {availableFonts: ["TeX"]}});`,
    `def main():\n    data = load("${rng.hex(8)}.csv")\n    for i in range(${rng.int(2, 99)}):\n        print(i, data[i] * ${rng.int(2, 9)})\n\nif __name__ == "__main__":\n    main()`,
  ]);
}

function slug(ctx: PageContext): string {
  return ctx.topic.map((w) => w.toLowerCase()).join("-");
}

function idsAndHashes(rng: Rng, ctx: PageContext): string {
  const uuid = `${rng.hex(8)}-${rng.hex(4)}-4${rng.hex(3)}-${rng.pick(["8", "9", "a", "b"])}${rng.hex(3)}-${rng.hex(12)}`;
  return rng.pick([
    `Permalink: https://${ctx.site}/questions/${rng.int(100000, 9999999)}/${slug(ctx)}?utm_source=${rng.pick(["facebook", "twitter", "newsletter"])}&utm_medium=social&fbclid=IwAR${rng.hex(24)}`,
    `Question ID: ${uuid}\nsha1: ${rng.hex(40)}`,
    `session=${rng.hex(32)}; _ga=GA1.2.${rng.int(100000000, 999999999)}.${rng.int(1400000000, 1700000000)}; csrftoken=${rng.hex(32)}`,
    `Attachments: IMG_${rng.int(1000, 9999)}.jpg (${rng.int(20, 900)} KB) · ${rng.hex(16)}.png · download?id=${rng.hex(20)}`,
    `doi:10.${rng.int(1000, 9999)}/${rng.hex(6)}.${rng.int(100, 999)} · arXiv:${rng.int(1000, 2312)}.${rng.int(10000, 99999)}v${rng.int(1, 3)} · ISBN 978-${rng.int(0, 9)}-${rng.int(100, 999)}-${rng.int(10000, 99999)}-${rng.int(0, 9)}`,
  ]);
}

/** One block of junk of the given kind for a page. */
export function junkBlock(kind: JunkKind, rng: Rng, ctx: PageContext): string {
  switch (kind) {
    case "boilerplate":
      return boilerplate(rng, ctx);
    case "table":
      return numberTable(rng);
    case "mojibake":
      return garbled(rng, ctx);
    case "code":
      return codeDump(rng, ctx);
    case "ids":
      return idsAndHashes(rng, ctx);
  }
}
