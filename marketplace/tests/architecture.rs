//! The marketplace's floors, kept by reading its source (ARCHITECTURE.md, "Inside a
//! marketplace module"):
//!
//! - the floor (`plumbing`, `error`, `money`, `macros`) imports no capability;
//! - a module calls another only through its `service`, never its `store`;
//! - no module imports a module that imports it back, however long the circle.
//!
//! The graph is built from every `crate::<module>` in `marketplace/src/**.rs`, `use` groups
//! (`use crate::{a, b::{c, d}}`) and doc links included (a doc link is a dependency of the
//! documentation); plain `//` comments and string literals are left out. A module is a folder
//! (or file) right under `src/`. `http` is the composition root, above every capability: it
//! holds the state the handlers read (`ApiContext`) and merges every module's routes, so a
//! module's web room (`http.rs`, `http/`, an `extract.rs` of extractors) may name it; no other
//! room may.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Shared plumbing every capability may use and that uses none of them.
const FLOOR: &[&str] = &["plumbing", "error", "money", "macros"];
/// The composition root: the handlers' state and the merged router.
const ROOT: &str = "http";

/// Where a reference was found.
#[derive(Debug, Clone)]
struct At {
    file: String,
    line: usize,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One `crate::…` path as written, with groups expanded: its segments and the alias it is
/// bound to by `as`, if any.
#[derive(Debug, Clone, PartialEq)]
struct UsePath {
    segments: Vec<String>,
    alias: Option<String>,
}

/// Blanks plain comments and the insides of string and char literals, keeping doc comments
/// (`///`, `//!`, `/** */`, `/*! */`) and every line break, so offsets still give lines.
fn code_of(source: &str) -> String {
    let b = source.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            let doc = (rest.starts_with(b"///") && !rest.starts_with(b"////"))
                || rest.starts_with(b"//!");
            for &c in &rest[..end] {
                if doc {
                    out.push(c)
                } else {
                    blank(&mut out, c)
                }
            }
            i += end;
        } else if rest.starts_with(b"/*") {
            let doc = (rest.starts_with(b"/**") && !rest.starts_with(b"/**/"))
                || rest.starts_with(b"/*!");
            let (mut depth, mut j) = (0usize, 0);
            while j < rest.len() {
                if rest[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            for &c in &rest[..j] {
                if doc {
                    out.push(c)
                } else {
                    blank(&mut out, c)
                }
            }
            i += j;
        } else if let Some(len) = raw_string_len(rest, i == 0 || !is_ident(b[i - 1])) {
            rest[..len].iter().for_each(|&c| blank(&mut out, c));
            i += len;
        } else if rest[0] == b'"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != b'"' {
                j += if rest[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            rest[..end].iter().for_each(|&c| blank(&mut out, c));
            i += end;
        } else if rest[0] == b'\'' {
            // a char literal ('x', '\n', '\'', '\u{1F600}', '"'), or else a lifetime
            let len = if rest.get(1) == Some(&b'\\') {
                rest.get(3..)
                    .and_then(|r| r.iter().position(|&c| c == b'\''))
                    .map(|p| p + 4)
            } else {
                source[i + 1..]
                    .chars()
                    .next()
                    .map(char::len_utf8)
                    .filter(|&n| rest.get(1 + n) == Some(&b'\''))
                    .map(|n| n + 2)
            };
            let len = len.unwrap_or(1);
            rest[..len].iter().for_each(|&c| blank(&mut out, c));
            i += len;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("only ASCII was replaced")
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) starting here, if one does.
fn raw_string_len(rest: &[u8], at_token_start: bool) -> Option<usize> {
    if !at_token_start {
        return None;
    }
    let after_b = if rest.starts_with(b"br") { 2 } else { 1 };
    if !(rest.starts_with(b"r") || rest.starts_with(b"br")) {
        return None;
    }
    let hashes = rest[after_b..].iter().take_while(|&&c| c == b'#').count();
    let open = after_b + hashes;
    if rest.get(open) != Some(&b'"') {
        return None;
    }
    let mut close = vec![b'"'];
    close.extend(std::iter::repeat_n(b'#', hashes));
    (open + 1..rest.len())
        .find(|&j| rest[j..].starts_with(&close))
        .map(|j| j + close.len())
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// A tiny reader of use trees: `a::b::{c, d::{e as f}, self}`.
struct Tree<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Tree<'_> {
    fn skip_space(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.skip_space();
        let start = self.pos;
        if self.s.get(self.pos) == Some(&b'*') {
            self.pos += 1;
            return Some("*".into());
        }
        while self.pos < self.s.len() && is_ident(self.s[self.pos]) {
            self.pos += 1;
        }
        (self.pos > start).then(|| String::from_utf8_lossy(&self.s[start..self.pos]).into())
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.s[self.pos..].starts_with(token.as_bytes()) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    /// The paths of the tree starting here, each prefixed by `prefix`.
    fn paths(&mut self, prefix: &[String]) -> Vec<UsePath> {
        if self.eat("{") {
            let mut out = Vec::new();
            loop {
                if self.eat("}") {
                    break;
                }
                let before = self.pos;
                out.extend(self.paths(prefix));
                self.eat(",");
                if self.pos == before {
                    break; // not a use tree after all (e.g. the end of a file)
                }
            }
            return out;
        }
        let mut segments = prefix.to_vec();
        while let Some(id) = self.ident() {
            segments.push(id);
            // `a::b` goes on; `a::{…}` branches; `::<T>` (a turbofish) ends the path
            let save = self.pos;
            if self.eat("::") {
                self.skip_space();
                if self.s.get(self.pos) == Some(&b'{') {
                    return self.paths(&segments);
                }
                if self.s.get(self.pos) == Some(&b'<') {
                    self.pos = save;
                    break;
                }
                continue;
            }
            break;
        }
        let save = self.pos;
        let alias = if self.eat("as") && self.s.get(self.pos).is_some_and(|c| !is_ident(*c)) {
            self.ident()
        } else {
            self.pos = save;
            None
        };
        vec![UsePath { segments, alias }]
    }
}

/// Every `crate::…` path in a file's code, where it is.
fn crate_paths(code: &str) -> Vec<(UsePath, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find("crate::") {
        let at = from + found;
        from = at + "crate::".len();
        if at > 0 && (is_ident(b[at - 1]) || b[at - 1] == b'$') {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let mut tree = Tree { s: b, pos: from };
        out.extend(tree.paths(&[]).into_iter().map(|p| (p, line)));
    }
    out
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a readable source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What the source says about the modules.
#[derive(Default)]
struct Graph {
    modules: BTreeSet<String>,
    /// `from` → `to` → where.
    edges: BTreeMap<String, BTreeMap<String, Vec<At>>>,
    /// Problems found while reading: store reaches, the floor reaching up, the root named
    /// outside a web room, paths that name no module.
    problems: Vec<String>,
}

fn web_room(rel: &str) -> bool {
    let inside = rel.split_once('/').map_or("", |(_, rest)| rest);
    inside == "http.rs"
        || inside.starts_with("http/")
        || inside.ends_with("/http.rs")
        || inside.contains("/http/")
        || inside == "extract.rs"
}

fn read_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rs_files(src, &mut files);
    files.sort();
    let mut g = Graph::default();
    let rel = |p: &Path| {
        p.strip_prefix(src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/")
    };
    for f in &files {
        let r = rel(f);
        match r.split_once('/') {
            Some((dir, _)) => g.modules.insert(dir.to_owned()),
            None if r != "lib.rs" => g.modules.insert(r.trim_end_matches(".rs").to_owned()),
            None => false,
        };
    }
    // names the crate root re-exports (`pub use accounts::AuthUser;`) stand for their module
    let lib = code_of(&fs::read_to_string(src.join("lib.rs")).expect("lib.rs"));
    let mut reexports: BTreeMap<String, String> = BTreeMap::new();
    for (i, _) in lib.match_indices("pub use ") {
        let mut tree = Tree {
            s: lib.as_bytes(),
            pos: i + "pub use ".len(),
        };
        for p in tree.paths(&[]) {
            if let (Some(first), Some(last)) = (p.segments.first(), p.segments.last()) {
                if g.modules.contains(first) {
                    let name = p.alias.clone().unwrap_or_else(|| last.clone());
                    reexports.insert(name, first.clone());
                }
            }
        }
    }
    for f in &files {
        let r = rel(f);
        let Some(me) = r
            .split_once('/')
            .map(|(d, _)| d.to_owned())
            .or_else(|| (r != "lib.rs").then(|| r.trim_end_matches(".rs").to_owned()))
        else {
            continue;
        };
        let code = code_of(&fs::read_to_string(f).expect("a readable source file"));
        let at = |line| At {
            file: format!("marketplace/src/{r}"),
            line,
        };
        // names bound to another module as a whole (`use crate::ledger;`, `{self as l}`)
        let mut bound: BTreeMap<String, String> = BTreeMap::new();
        for (p, line) in crate_paths(&code) {
            let Some(first) = p.segments.first() else {
                continue;
            };
            let target = if g.modules.contains(first) {
                first.clone()
            } else if let Some(m) = reexports.get(first) {
                m.clone()
            } else if first == "self" || first == "super" {
                continue;
            } else {
                g.problems.push(format!(
                    "{}: `crate::{}` names no module of the crate",
                    at(line),
                    p.segments.join("::")
                ));
                continue;
            };
            if target == me {
                continue;
            }
            let rest: Vec<&str> = p.segments[1..].iter().map(String::as_str).collect();
            if rest.first() == Some(&"store") {
                g.problems.push(format!(
                    "{}: `crate::{}` reaches into the store of `{target}`; call its service",
                    at(line),
                    p.segments.join("::")
                ));
            }
            if matches!(rest.as_slice(), [] | ["self"]) {
                let name = p.alias.clone().unwrap_or_else(|| target.clone());
                bound.insert(name, target.clone());
            }
            if target == ROOT && !web_room(&r) {
                g.problems.push(format!(
                    "{}: `crate::{}`: only a module's web room may name the composition root",
                    at(line),
                    p.segments.join("::")
                ));
            }
            g.edges
                .entry(me.clone())
                .or_default()
                .entry(target)
                .or_default()
                .push(at(line));
        }
        // `invoices::store::…` through a name bound above
        for (name, target) in &bound {
            let needle = format!("{name}::store");
            for (i, _) in code.match_indices(&needle) {
                let before_ok =
                    i == 0 || (!is_ident(code.as_bytes()[i - 1]) && !code[..i].ends_with("::"));
                let after = code.as_bytes().get(i + needle.len());
                if before_ok && !after.is_some_and(|c| is_ident(*c)) {
                    let line = code[..i].matches('\n').count() + 1;
                    g.problems.push(format!(
                        "{}: `{needle}` reaches into the store of `{target}`; call its service",
                        at(line)
                    ));
                }
            }
        }
    }
    g
}

/// Every circle of modules (each strongly connected component with more than one module),
/// with the references that close it.
fn circles(g: &Graph) -> Vec<Vec<String>> {
    // Tarjan's algorithm, without the root (wiring, not a dependency: see the module docs)
    struct State<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on_stack: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit(s: &mut State<'_>, v: &str) {
        s.index.insert(v.into(), s.next);
        s.low.insert(v.into(), s.next);
        s.next += 1;
        s.stack.push(v.into());
        s.on_stack.insert(v.into());
        let next: Vec<String> = s.g.get(v).into_iter().flatten().cloned().collect();
        for w in next {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let low = s.low[v].min(s.low[&w]);
                s.low.insert(v.into(), low);
            } else if s.on_stack.contains(&w) {
                let low = s.low[v].min(s.index[&w]);
                s.low.insert(v.into(), low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().expect("v is on the stack");
                s.on_stack.remove(&w);
                let done = w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let deps: BTreeMap<String, BTreeSet<String>> = g
        .edges
        .iter()
        .filter(|(from, _)| from.as_str() != ROOT)
        .map(|(from, to)| {
            let to = to.keys().filter(|t| t.as_str() != ROOT).cloned().collect();
            (from.clone(), to)
        })
        .collect();
    let mut s = State {
        g: &deps,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.modules.iter().filter(|m| m.as_str() != ROOT) {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// The modules in an order where each comes after everything it imports (the root last).
fn floors(g: &Graph) -> Vec<String> {
    let mut placed: Vec<String> = Vec::new();
    let mut left: BTreeSet<String> = g.modules.clone();
    left.remove(ROOT);
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|m| {
                g.edges.get(*m).is_none_or(|to| {
                    to.keys()
                        .all(|t| t == ROOT || placed.contains(t) || !left.contains(t))
                })
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            placed.extend(left.iter().cloned()); // a circle; reported by its own check
            break;
        }
        for m in ready {
            left.remove(&m);
            placed.push(m);
        }
    }
    placed.push(ROOT.into());
    placed
}

fn problems(g: &Graph) -> Vec<String> {
    let mut out = g.problems.clone();
    for floor in FLOOR {
        for (to, refs) in g.edges.get(*floor).into_iter().flatten() {
            if !FLOOR.contains(&to.as_str()) {
                out.push(format!(
                    "the floor imports a module above it: {floor} -> {to} at {}",
                    refs[0]
                ));
            }
        }
    }
    for circle in circles(g) {
        let mut why = Vec::new();
        for from in &circle {
            for (to, refs) in g.edges.get(from).into_iter().flatten() {
                if circle.contains(to) {
                    why.push(format!("{from} -> {to} at {}", refs[0]));
                }
            }
        }
        out.push(format!(
            "modules import each other in a circle ({}): {}",
            circle.join(", "),
            why.join("; ")
        ));
    }
    out
}

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn modules_stand_on_the_floor_and_call_each_other_in_one_direction() {
    let g = read_graph(&source());
    let mut found: Vec<String> = FLOOR
        .iter()
        .filter(|f| !g.modules.contains(**f))
        .map(|f| format!("the floor's `{f}` is missing"))
        .collect();
    found.extend(problems(&g));
    let order = floors(&g);
    let graph: Vec<String> = order
        .iter()
        .map(|m| {
            let to: Vec<&str> = g
                .edges
                .get(m)
                .into_iter()
                .flat_map(|t| t.keys())
                .map(String::as_str)
                .collect();
            format!("  {m} -> {}", to.join(", "))
        })
        .collect();
    assert!(
        found.is_empty(),
        "{} problem(s):\n{}\n\nthe module graph, lowest first:\n{}",
        found.len(),
        found.join("\n"),
        graph.join("\n")
    );
}

// The reader itself, on small pieces of code.

fn graph_of(files: &[(&str, &str)]) -> Graph {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "marketplace-architecture-{}-{n}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    for (path, code) in files {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, code).unwrap();
    }
    let g = read_graph(&dir);
    let _ = fs::remove_dir_all(&dir);
    g
}

#[test]
fn use_groups_and_paths_are_expanded() {
    let code =
        "use crate::{a, b::{c, d::e as f}, g::store::{self as s}};\nlet x = crate::h::i::<u8>();";
    let paths: Vec<(Vec<String>, Option<String>)> = crate_paths(code)
        .into_iter()
        .map(|(p, _)| (p.segments, p.alias))
        .collect();
    let p = |s: &[&str], a: Option<&str>| {
        (
            s.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
            a.map(str::to_owned),
        )
    };
    assert_eq!(
        paths,
        vec![
            p(&["a"], None),
            p(&["b", "c"], None),
            p(&["b", "d", "e"], Some("f")),
            p(&["g", "store", "self"], Some("s")),
            p(&["h", "i"], None),
        ]
    );
}

#[test]
fn comments_and_strings_are_not_references_but_doc_links_are() {
    let code = code_of(
        "// crate::a\n/* crate::b */ let s = \"crate::c\"; let r = r#\"crate::d\"#;\n\
         let q = '\"'; /// [`crate::e`]\nfn f<'a>() { crate::g::h() }",
    );
    let found: Vec<String> = crate_paths(&code)
        .into_iter()
        .map(|(p, _)| p.segments.join("::"))
        .collect();
    assert_eq!(found, ["e", "g::h"]);
}

#[test]
fn circles_store_reaches_and_a_floor_reaching_up_are_found() {
    let g = graph_of(&[
        ("lib.rs", "pub mod a; pub mod b; pub use a::Thing;"),
        ("error.rs", "use crate::a::Thing;"),
        ("a/mod.rs", "use crate::b::service::go;"),
        ("b/mod.rs", "use crate::{self as c, Thing};"),
        ("c/mod.rs", "use crate::b;\nfn f() { b::store::row(); }"),
        ("d/mod.rs", "use crate::a::store as rows;"),
    ]);
    let found = problems(&g).join("\n");
    assert!(
        found.contains("floor imports a module above it: error -> a"),
        "{found}"
    );
    assert!(found.contains("circle (a, b)"), "{found}");
    assert!(
        found.contains("c/mod.rs:2: `b::store` reaches into the store of `b`"),
        "{found}"
    );
    assert!(
        found.contains("d/mod.rs:1: `crate::a::store` reaches"),
        "{found}"
    );
    let calm = graph_of(&[
        ("lib.rs", "pub mod a;"),
        ("a/mod.rs", "use crate::b::service;"),
        ("b/mod.rs", "use crate::error::Error;"),
        ("error.rs", ""),
    ]);
    assert_eq!(problems(&calm), Vec::<String>::new());
    assert_eq!(floors(&calm), ["error", "b", "a", "http"]);
}
