/**
 * A small LaTeX → MathML converter for HTML export of `<formula>` blocks.
 *
 * docling renders formulas with the Python package latex2mathml (3.81). This
 * module reproduces its output for the common subset of LaTeX found in
 * documents: letters, numbers, operators, Greek and other symbol commands,
 * groups, sub- and superscripts, `\frac`, `\sqrt`, `\left`…`\right`, spacing
 * commands, `\text{}` and named functions. For anything else it returns
 * `undefined` and the caller prints the LaTeX as `<pre>`, which is also what
 * docling prints when its converter fails.
 *
 * @module
 */

/** Code points (hex, as latex2mathml writes them) of the symbols this converter knows. */
const SYMBOLS: Readonly<Record<string, string>> = {
  "+": "0002B",
  "-": "02212",
  "=": "0003D",
  "<": "0003C",
  ">": "0003E",
  "(": "00028",
  ")": "00029",
  "/": "0002F",
  "*": "0002A",
  ",": "0002C",
  ".": "0002E",
  "!": "00021",
  "?": "0003F",
  ":": "0003A",
  ";": "0003B",
  "|": "0007C",
  "\\alpha": "003B1",
  "\\beta": "003B2",
  "\\gamma": "003B3",
  "\\delta": "003B4",
  "\\epsilon": "003F5",
  "\\varepsilon": "003B5",
  "\\zeta": "003B6",
  "\\eta": "003B7",
  "\\theta": "003B8",
  "\\vartheta": "003D1",
  "\\iota": "003B9",
  "\\kappa": "003BA",
  "\\lambda": "003BB",
  "\\mu": "003BC",
  "\\nu": "003BD",
  "\\xi": "003BE",
  "\\pi": "003C0",
  "\\varpi": "003D6",
  "\\rho": "003C1",
  "\\varrho": "003F1",
  "\\sigma": "003C3",
  "\\varsigma": "003C2",
  "\\tau": "003C4",
  "\\upsilon": "003C5",
  "\\phi": "003D5",
  "\\varphi": "003C6",
  "\\chi": "003C7",
  "\\psi": "003C8",
  "\\omega": "003C9",
  "\\Gamma": "00393",
  "\\Delta": "00394",
  "\\Theta": "00398",
  "\\Lambda": "0039B",
  "\\Xi": "0039E",
  "\\Pi": "003A0",
  "\\Sigma": "003A3",
  "\\Upsilon": "003A5",
  "\\Phi": "003A6",
  "\\Psi": "003A8",
  "\\Omega": "003A9",
  "\\pm": "000B1",
  "\\mp": "02213",
  "\\times": "000D7",
  "\\div": "000F7",
  "\\cdot": "000B7",
  "\\ast": "0002A",
  "\\star": "022C6",
  "\\circ": "02218",
  "\\bullet": "02022",
  "\\oplus": "02295",
  "\\ominus": "02296",
  "\\otimes": "02297",
  "\\odot": "02299",
  "\\cup": "0222A",
  "\\cap": "02229",
  "\\wedge": "02227",
  "\\vee": "02228",
  "\\land": "02227",
  "\\lor": "02228",
  "\\setminus": "029F5",
  "\\leq": "02264",
  "\\le": "02264",
  "\\geq": "02265",
  "\\ge": "02265",
  "\\neq": "02260",
  "\\ne": "02260",
  "\\approx": "02248",
  "\\equiv": "02261",
  "\\sim": "0007E",
  "\\simeq": "02243",
  "\\cong": "02245",
  "\\propto": "0221D",
  "\\in": "02208",
  "\\notin": "02209",
  "\\ni": "0220B",
  "\\subset": "02282",
  "\\subseteq": "02286",
  "\\supset": "02283",
  "\\supseteq": "02287",
  "\\ll": "0226A",
  "\\gg": "0226B",
  "\\perp": "027C2",
  "\\parallel": "02225",
  "\\mid": "02223",
  "\\to": "02192",
  "\\rightarrow": "02192",
  "\\leftarrow": "02190",
  "\\gets": "02190",
  "\\Rightarrow": "021D2",
  "\\Leftarrow": "021D0",
  "\\leftrightarrow": "02194",
  "\\Leftrightarrow": "021D4",
  "\\iff": "027FA",
  "\\implies": "027F9",
  "\\mapsto": "021A6",
  "\\uparrow": "02191",
  "\\downarrow": "02193",
  "\\longrightarrow": "027F6",
  "\\longleftarrow": "027F5",
  "\\Longrightarrow": "027F9",
  "\\infty": "0221E",
  "\\partial": "02202",
  "\\nabla": "02207",
  "\\forall": "02200",
  "\\exists": "02203",
  "\\emptyset": "02205",
  "\\varnothing": "02205",
  "\\prime": "02032",
  "\\ldots": "02026",
  "\\cdots": "022EF",
  "\\vdots": "022EE",
  "\\ddots": "022F1",
  "\\dots": "02026",
  "\\angle": "02220",
  "\\triangle": "025B3",
  "\\hbar": "0210F",
  "\\ell": "02113",
  "\\Re": "0211C",
  "\\Im": "02111",
  "\\aleph": "02135",
  "\\neg": "000AC",
  "\\lnot": "000AC",
  "\\top": "022A4",
  "\\bot": "022A5",
  "\\sum": "02211",
  "\\prod": "0220F",
  "\\coprod": "02210",
  "\\int": "0222B",
  "\\iint": "0222C",
  "\\oint": "0222E",
  "\\langle": "027E8",
  "\\rangle": "027E9",
  "\\lfloor": "0230A",
  "\\rfloor": "0230B",
  "\\lceil": "02308",
  "\\rceil": "02309",
  "\\|": "02016",
  "\\{": "0007B",
  "\\}": "0007D",
  "\\%": "00025",
  "\\#": "00023",
  "\\&": "00026",
  "\\$": "00024",
  "\\_": "0005F",
  "\\vert": "0007C",
  "\\Vert": "02016",
  "\\lvert": "0007C",
  "\\rvert": "0007C",
  "\\lVert": "02016",
  "\\rVert": "02016",
  "\\backslash": "0005C",
  "\\colon": "0003A",
  "\\lt": "0003C",
  "\\gt": "0003E",
  "\\surd": "0221A",
  "\\degree": "000B0",
  "\\square": "025FB",
  "\\Box": "025FB",
  "\\dagger": "02020",
  "\\ddagger": "02021",
  "\\models": "022A7",
  "\\vdash": "022A2",
  "\\dashv": "022A3",
  "\\cdotp": "000B7",
  "\\bigcup": "022C3",
  "\\bigcap": "022C2",
  "\\bigoplus": "02A01",
  "\\bigotimes": "02A02",
  "\\lbrace": "0007B",
  "\\rbrace": "0007D",
  "\\lbrack": "0005B",
  "\\rbrack": "0005D",
  "\\lparen": "00028",
  "\\rparen": "00029",
  "\\sqrt": "0221A",
};

/** Symbols latex2mathml prints as operators (`<mo>`). */
const OPERATORS = new Set([
  "+",
  "-",
  "*",
  "/",
  "(",
  ")",
  "=",
  ",",
  "?",
  "[",
  "]",
  "|",
  "\\|",
  "!",
  "\\{",
  "\\}",
  ">",
  "<",
  ".",
  "\\ast",
  "\\bigotimes",
  "\\cdot",
  "\\centerdot",
  "\\div",
  "\\dots",
  "\\dotsc",
  "\\dotso",
  "\\gt",
  "\\ldotp",
  "\\lt",
  "\\lvert",
  "\\lVert",
  "\\omicron",
  "\\rvert",
  "\\rVert",
  "\\S",
  "\\smallfrown",
  "\\smallint",
  "\\smallsmile",
  "\\surd",
  "\\times",
]);
const STRETCHY_FALSE = new Set(["(", ")", "[", "]", "|", "\\|", "\\{", "\\}", "\\surd"]);

/** Commands printed as their name in `<mi>`. */
const FUNCTIONS = new Set([
  "\\arccos",
  "\\arcctg",
  "\\arcsin",
  "\\arctan",
  "\\arctg",
  "\\ch",
  "\\cos",
  "\\cosh",
  "\\cosec",
  "\\cot",
  "\\cotg",
  "\\coth",
  "\\csc",
  "\\ctg",
  "\\cth",
  "\\deg",
  "\\dim",
  "\\exp",
  "\\hom",
  "\\ker",
  "\\ln",
  "\\lg",
  "\\log",
  "\\sec",
  "\\sh",
  "\\sin",
  "\\sinh",
  "\\tan",
  "\\tanh",
  "\\tg",
  "\\th",
]);

/** Operators with limits, printed as `<mo>` with their name. */
const LIMITS = new Set(["\\lim", "\\sup", "\\inf", "\\max", "\\min"]);
const MOVABLE: Readonly<Record<string, string>> = {
  "\\det": "det",
  "\\gcd": "gcd",
  "\\Pr": "Pr",
  "\\plim": "plim",
};

/** Spacing commands and their `<mspace>` widths. */
const SPACES: Readonly<Record<string, string>> = {
  "\\,": "0.167em",
  "\\:": "0.222em",
  "\\>": "0.222em",
  "\\;": "0.278em",
  "\\!": "negativethinmathspace",
  "\\enspace": "0.5em",
  "\\Space": "0.5em",
  "\\quad": "1em",
  "\\qquad": "2em",
  "\\thinspace": "thinmathspace",
  "\\thickspace": "thickmathspace",
  "\\negthinspace": "negativethinmathspace",
  "\\negmedspace": "negativemediummathspace",
  "\\negthickspace": "negativethickmathspace",
};

/** Commands the converter does not reproduce; seeing one gives up. */
const UNSUPPORTED =
  /^\\(?:begin|end|operatorname|over|atop|above|choose|brace|brack|not|limits|nolimits|math[a-z]+|text[a-z]+|[dtc]frac|binom|dbinom|tbinom|genfrac|color|colorbox|fcolorbox|textcolor|hbox|mbox|fbox|boxed|overline|underline|hat|bar|vec|dot|ddot|tilde|widehat|widetilde|overbrace|underbrace|overset|underset|stackrel|displaystyle|textstyle|scriptstyle|scriptscriptstyle|rm|bf|it|cal|frak|bm|boldsymbol|middle|big|Big|bigg|Bigg|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|newcommand|def|substack|sideset|skew|phantom|hphantom|vphantom|smash|cancel|bcancel|xcancel|sout|unicode|rule|kern|mkern|hspace|hskip|mspace|mskip|raise|lower|tag|label|href|verb|class|style|cases|matrix|pmatrix|bmatrix|vmatrix|Vmatrix|array|mathring|sum|prod|coprod|bigcup|bigcap|bigoplus|bigotimes|int|iint|oint|emph|pmod|bmod|mod|pod|xrightarrow|xleftarrow|root|of|ref|eqref|mathchoice|llap|rlap|clap|vcenter|cfrac)$/;

interface Node {
  token: string;
  children?: Node[];
  delimiter?: string;
  text?: string;
  modifier?: string;
}

class Unsupported extends Error {}

const TOKEN = new RegExp(
  [
    String.raw`(%[^\n]+)`,
    String.raw`([a-zA-Z])`,
    String.raw`([_^])(\p{Nd})`,
    String.raw`(-?\p{Nd}+(?:\.\p{Nd}+)?\s*(?:in|mm|cm|pt|em|ex|pc|bp|dd|cc|sp|mu))`,
    String.raw`(\p{Nd}+(?:\.\p{Nd}+)?)`,
    String.raw`(\.\p{Nd}*)`,
    String.raw`(\\[\\\[\]{}\s!,:>;|_%#$&])`,
    String.raw`(\\text)\s*\{([^}]*)\}`,
    String.raw`(\\frac)\s*([.\p{Nd}])\s*([.\p{Nd}])?`,
    String.raw`(\\[a-zA-Z]+)`,
    String.raw`(\S)`,
  ].join("|"),
  "gu",
);

/** latex2mathml's tokenizer, restricted to what this converter handles. */
function tokenize(latex: string): string[] {
  const out: string[] = [];
  for (const m of latex.matchAll(TOKEN)) {
    if (m[1] !== undefined) continue; // comment
    if (m[5] !== undefined) throw new Unsupported("dimension");
    const groups = m.slice(2).filter((g) => g !== undefined);
    out.push(...groups);
  }
  return out;
}

/**
 * Deepest group nesting converted. latex2mathml recurses too and fails past
 * Python's recursion limit; here the limit keeps the walk, the conversion and
 * the serialization (all recursive) far from the JavaScript stack's end.
 */
const MAX_NESTING = 200;

class Tokens {
  #i = 0;
  /** Nesting of the walk in progress. */
  depth = 0;
  constructor(readonly list: string[]) {}
  next(): string | undefined {
    return this.#i < this.list.length ? this.list[this.#i++] : undefined;
  }
}

/** latex2mathml's walker (subset): tokens → nodes. */
function walk(tokens: Tokens, block: boolean, terminator?: string, limit = 0): Node[] {
  if (tokens.depth >= MAX_NESTING) fail();
  tokens.depth++;
  try {
    return walkGroup(tokens, block, terminator, limit);
  } finally {
    tokens.depth--;
  }
}

function walkGroup(tokens: Tokens, block: boolean, terminator?: string, limit = 0): Node[] {
  const group: Node[] = [];
  let any = false;
  for (let token = tokens.next(); token !== undefined; token = tokens.next()) {
    any = true;
    let node: Node;
    if (token === terminator) {
      const end: Node = { token };
      if (token === "\\right") end.delimiter = tokens.next() ?? fail();
      group.push(end);
      break;
    } else if (token === "\\right") {
      fail();
    } else if (token === "\\left") {
      const delimiter = tokens.next() ?? fail();
      const children = walk(tokens, block, "\\right");
      if (children.length === 0 || children[children.length - 1].token !== "\\right") fail();
      node = { token, children, delimiter };
    } else if (token === "{") {
      let children = walk(tokens, block, "}");
      if (children.length > 0 && children[children.length - 1].token === "}") {
        children = children.slice(0, -1);
      }
      node = { token: "{}", children };
    } else if (token === "_" || token === "^") {
      const previous = group.pop() ?? { token: "" };
      if (previous.token === "" || (token === "_" && previous.token === "_")) fail();
      if (token === "^" && previous.token === "^") fail();
      const [arg] = walk(tokens, block, terminator, 1);
      if (token === "_" && previous.token === "^" && previous.children) {
        node = { token: "_^", children: [previous.children[0], arg, previous.children[1]] };
      } else if (token === "^" && previous.token === "_" && previous.children) {
        node = { token: "_^", children: [...previous.children, arg] };
      } else {
        node = { token, children: [previous, arg] };
      }
    } else if (token === "\\frac") {
      node = { token, children: walk(tokens, block, terminator, 2) };
      if (node.children!.length < 2) fail();
    } else if (token === "\\sqrt") {
      const [arg] = walk(tokens, block, undefined, 1);
      if (arg.token === "[") fail();
      node = { token, children: [arg] };
    } else if (token === "\\text") {
      node = { token, text: tokens.next() ?? "" };
    } else if (token === "'" || UNSUPPORTED.test(token)) {
      fail();
    } else {
      node = { token };
    }
    group.push(node!);
    if (limit && group.length >= limit) break;
  }
  if (!any) fail();
  return group;
}

function fail(): never {
  throw new Unsupported("unsupported LaTeX");
}

/** A MathML element under construction, serialized like Python's ElementTree. */
class El {
  children: El[] = [];
  text?: string;
  constructor(readonly tag: string, readonly attrs: [string, string][] = []) {}
  add(tag: string, attrs: [string, string][] = []): El {
    const el = new El(tag, attrs);
    this.children.push(el);
    return el;
  }
  toString(): string {
    const attrs = this.attrs.map(([k, v]) => ` ${k}="${v}"`).join("");
    if (this.text === undefined && this.children.length === 0) return `<${this.tag}${attrs} />`;
    return `<${this.tag}${attrs}>${this.text ?? ""}${this.children.join("")}</${this.tag}>`;
  }
}

function entity(code: string): string {
  return `&#x${code};`;
}

function convertGroup(nodes: readonly Node[], parent: El, depth = 0): void {
  // Sub/superscript chains nest without nesting the walk: bounded here too.
  if (depth > 2 * MAX_NESTING) fail();
  const inner = depth + 1;
  for (const node of nodes) {
    const t = node.token;
    if (t === "_" || t === "^" || t === "_^") {
      const tag = t === "_" ? "msub" : t === "^" ? "msup" : "msubsup";
      convertGroup(node.children!, parent.add(tag), inner);
    } else if (t === "\\frac") {
      convertGroup(node.children!, parent.add("mfrac"), inner);
    } else if (t === "\\sqrt") {
      convertGroup(node.children!, parent.add("msqrt"), inner);
    } else if (t === "\\left" || t === "\\right") {
      const row = t === "\\left" ? parent.add("mrow") : parent;
      const form = t === "\\left" ? "prefix" : "postfix";
      const mo = row.add("mo", [["stretchy", "true"], ["fence", "true"], ["form", form]]);
      if (node.delimiter !== ".") {
        const code = SYMBOLS[node.delimiter!];
        mo.text = code ? entity(code) : node.delimiter;
      }
      if (node.children) convertGroup(node.children, row, inner);
    } else if (t in SPACES) {
      parent.add("mspace", [["width", SPACES[t]]]);
    } else if (t === "\\\\") {
      parent.add("mspace", [["linebreak", "newline"]]);
    } else if (LIMITS.has(t)) {
      parent.add("mo").text = t.slice(1);
    } else if (t === "\\text") {
      parent.add("mtext").text = (node.text ?? "").replace(/ /g, "&#x000A0;");
    } else if (node.children) {
      convertGroup(node.children, parent.add("mrow"), inner);
    } else {
      convertSymbol(t, parent);
    }
  }
}

function convertSymbol(token: string, parent: El): void {
  const code = SYMBOLS[token];
  const value = code ? parseInt(code, 16) : -1;
  if (/^\p{Nd}+(\.\p{Nd}+)?/u.test(token)) {
    parent.add("mn").text = token;
  } else if (OPERATORS.has(token)) {
    const attrs: [string, string][] = [];
    if (token === "\\|") attrs.push(["fence", "false"]);
    if (STRETCHY_FALSE.has(token)) attrs.push(["stretchy", "false"]);
    parent.add("mo", attrs).text = code ? entity(code) : token;
  } else if ((value >= 0x2200 && value <= 0x22ff) || (value >= 0x2190 && value <= 0x21ff)) {
    parent.add("mo").text = entity(code);
  } else if (
    token === "\\ " || token === "~" || token === "\\nobreakspace" || token === "\\space"
  ) {
    parent.add("mtext").text = "&#x000A0;";
  } else if (token in MOVABLE) {
    parent.add("mo", [["movablelimits", "true"]]).text = MOVABLE[token];
  } else if (token.startsWith("\\")) {
    if (!code && !FUNCTIONS.has(token)) fail();
    parent.add("mi").text = code ? entity(code) : token.slice(1);
  } else {
    parent.add("mi").text = token;
  }
}

/**
 * Converts LaTeX to a MathML `<math>` element with a TeX annotation, as
 * docling's HTML export writes it, or returns `undefined` when the LaTeX uses
 * something outside the supported subset.
 */
export function latexToMathml(latex: string, display: "block" | "inline"): string | undefined {
  try {
    const math = new El("math", [["xmlns", "http://www.w3.org/1998/Math/MathML"], [
      "display",
      display,
    ]]);
    const row = math.add("mrow");
    convertGroup(walk(new Tokens(tokenize(latex)), display === "block"), row);
    // ElementTree escapes the annotation and docling unescapes the whole
    // element afterwards, so the LaTeX appears verbatim.
    math.add("annotation", [["encoding", "TeX"]]).text = latex;
    return math.toString();
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
