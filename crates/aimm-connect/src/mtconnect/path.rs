//! The `path=` query parameter of `/current` and `/sample`: the XPath subset the reference agent
//! (cppagent) is used with in practice, evaluated over the published device model. A path selects
//! elements of the probe document; the data items it filters to are the selected `DataItem`
//! elements plus every `DataItem` below any other selected element (a component, `DataItems`,
//! a device), as cppagent does.
//!
//! Supported: absolute location paths of `/` and `//` steps over element names (a `prefix:` is
//! ignored, as documents have one namespace) or `*`; predicates comparing attributes with `=` or
//! `!=` to a quoted literal, testing an attribute's presence (`[@name]`), combined with `and`,
//! `or` and parentheses; `|` unions. Examples: `//DataItem[@type="LOAD" and @subType="ACTUAL"]`,
//! `//Device[@name="M"]//Linear[@name="X"]`, `//Axes|//Controller`.
//!
//! Written here rather than taken from a crate: the maintained Rust XPath crates evaluate over
//! their own DOM of a parsed document, while the agent needs the result as data item indices of
//! its model, and this subset is a few hundred lines.

use super::device::DeviceModel;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::fmt;

/// Why a path expression cannot be used; `position` is the 1-based character where it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// 1-based character position in the expression.
    pub position: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.position, self.message)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Slash,
    DoubleSlash,
    Open,
    Close,
    LParen,
    RParen,
    At,
    Eq,
    NotEq,
    Bar,
    Star,
    Name(String),
    Literal(String),
    /// A character outside the subset; the parser reports it where it stands.
    Other(char),
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, PathError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let fail = |position: usize, message: String| PathError { position, message };
    while i < chars.len() {
        let c = chars[i];
        let start = i + 1;
        let token = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                i += 1;
                Token::DoubleSlash
            }
            '/' => Token::Slash,
            '[' => Token::Open,
            ']' => Token::Close,
            '(' => Token::LParen,
            ')' => Token::RParen,
            '@' => Token::At,
            '=' => Token::Eq,
            '!' if chars.get(i + 1) == Some(&'=') => {
                i += 1;
                Token::NotEq
            }
            '|' => Token::Bar,
            '*' => Token::Star,
            '"' | '\'' => {
                let end = chars[i + 1..].iter().position(|&d| d == c).ok_or_else(|| {
                    fail(
                        start,
                        format!("string literal opened with {c} is not closed"),
                    )
                })?;
                let literal: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 1;
                Token::Literal(literal)
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .position(|&d| !(d.is_alphanumeric() || matches!(d, '_' | '-' | '.' | ':')))
                    .unwrap_or(chars.len() - i);
                let name: String = chars[i..i + len].iter().collect();
                i += len - 1;
                Token::Name(name)
            }
            other => Token::Other(other),
        };
        out.push((start, token));
        i += 1;
    }
    Ok(out)
}

/// A predicate over an element's attributes.
#[derive(Clone, Debug, PartialEq)]
enum Predicate {
    Has(String),
    Equals(String, String, bool),
    And(Box<Predicate>, Box<Predicate>),
    Or(Box<Predicate>, Box<Predicate>),
}

impl Predicate {
    fn holds(&self, node: &Node) -> bool {
        match self {
            Predicate::Has(a) => node.attr(a).is_some(),
            Predicate::Equals(a, v, equal) => node.attr(a).is_some_and(|x| (x == v) == *equal),
            Predicate::And(l, r) => l.holds(node) && r.holds(node),
            Predicate::Or(l, r) => l.holds(node) || r.holds(node),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Step {
    /// `//` before the step: any descendant, not only a child.
    descendant: bool,
    /// Local element name; `None` for `*`.
    name: Option<String>,
    predicates: Vec<Predicate>,
}

/// A parsed path expression: a union of location paths.
#[derive(Clone, Debug, PartialEq)]
pub struct PathExpr {
    paths: Vec<Vec<Step>>,
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(p, _)| *p)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, PathError> {
        Err(PathError {
            position: self.position(),
            message: message.into(),
        })
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        t
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), PathError> {
        if self.peek() == Some(&token) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(format!("{what} expected"))
        }
    }

    fn location_path(&mut self) -> Result<Vec<Step>, PathError> {
        let mut steps = Vec::new();
        loop {
            let descendant = match self.peek() {
                Some(Token::Slash) => false,
                Some(Token::DoubleSlash) => true,
                _ if steps.is_empty() => {
                    return self
                        .fail("a path starts with / or // (relative paths are not supported)")
                }
                _ => return Ok(steps),
            };
            self.at += 1;
            let name = match self.next() {
                Some(Token::Star) => None,
                Some(Token::Name(n)) => {
                    if self.peek() == Some(&Token::LParen) {
                        self.at -= 1;
                        return self
                            .fail(format!("function or node test '{n}()' is not supported"));
                    }
                    Some(n.rsplit(':').next().unwrap_or(&n).to_string())
                }
                _ => {
                    self.at -= 1;
                    return self.fail("an element name or * expected");
                }
            };
            let mut predicates = Vec::new();
            while self.peek() == Some(&Token::Open) {
                self.at += 1;
                predicates.push(self.or()?);
                self.expect(Token::Close, "']'")?;
            }
            steps.push(Step {
                descendant,
                name,
                predicates,
            });
        }
    }

    fn or(&mut self) -> Result<Predicate, PathError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Name("or".into())) {
            self.at += 1;
            left = Predicate::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Predicate, PathError> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Token::Name("and".into())) {
            self.at += 1;
            left = Predicate::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Predicate, PathError> {
        match self.peek() {
            Some(Token::LParen) => {
                self.at += 1;
                let inner = self.or()?;
                self.expect(Token::RParen, "')'")?;
                Ok(inner)
            }
            Some(Token::At) => {
                self.at += 1;
                let Some(Token::Name(attr)) = self.next() else {
                    self.at -= 1;
                    return self.fail("an attribute name expected after @");
                };
                let equal = match self.peek() {
                    Some(Token::Eq) => true,
                    Some(Token::NotEq) => false,
                    _ => return Ok(Predicate::Has(attr)),
                };
                self.at += 1;
                match self.next() {
                    Some(Token::Literal(v)) => Ok(Predicate::Equals(attr, v, equal)),
                    _ => {
                        self.at -= 1;
                        self.fail("a quoted value expected")
                    }
                }
            }
            _ => self.fail(
                "a predicate must compare an attribute (@name=\"value\"); positions and functions are not supported",
            ),
        }
    }
}

impl PathExpr {
    /// Parses `text`; the error names the character where it stops.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens,
            at: 0,
            end: text.chars().count() + 1,
        };
        let mut paths = vec![p.location_path()?];
        while p.peek() == Some(&Token::Bar) {
            p.at += 1;
            paths.push(p.location_path()?);
        }
        match p.peek() {
            None => Ok(Self { paths }),
            Some(Token::Other(c)) => {
                p.fail(format!("'{c}' is not part of the supported XPath subset"))
            }
            Some(_) => p.fail("unexpected text after the path"),
        }
    }
}

#[derive(Debug)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<usize>,
    /// The model's data item when this is a `DataItem` element.
    item: Option<usize>,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The probe document's element tree (`MTConnectDevices/Devices/Device…`) that paths select
/// from, its `DataItem` elements tied to the model's data items.
#[derive(Debug)]
pub struct DeviceTree {
    nodes: Vec<Node>,
}

impl DeviceTree {
    /// The tree of every device of `model` (their XML was read and checked with the model).
    pub fn build(model: &DeviceModel) -> Self {
        let mut tree = DeviceTree { nodes: Vec::new() };
        let doc = tree.add(None, "", Vec::new(), None);
        let root = tree.add(Some(doc), "MTConnectDevices", Vec::new(), None);
        let devices = tree.add(Some(root), "Devices", Vec::new(), None);
        for device in &model.devices {
            let mut stack = vec![devices];
            let mut reader = Reader::from_str(&device.xml);
            while let Ok(event) = reader.read_event() {
                match event {
                    Event::Start(ref e) | Event::Empty(ref e) => {
                        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                        let attrs: Vec<(String, String)> = e
                            .attributes()
                            .flatten()
                            .map(|a| {
                                let key = String::from_utf8_lossy(a.key.local_name().as_ref())
                                    .into_owned();
                                let value = a
                                    .unescape_value()
                                    .map(|v| v.into_owned())
                                    .unwrap_or_default();
                                (key, value)
                            })
                            .collect();
                        let item = (name == "DataItem")
                            .then(|| {
                                let id = attrs.iter().find(|(k, _)| k == "id")?;
                                model.item_by_id(&id.1)
                            })
                            .flatten();
                        let parent = stack.last().copied();
                        let node = tree.add(parent, &name, attrs, item);
                        if matches!(event, Event::Start(_)) {
                            stack.push(node);
                        }
                    }
                    Event::End(_) => {
                        stack.pop();
                    }
                    Event::Eof => break,
                    _ => {}
                }
            }
        }
        tree
    }

    fn add(
        &mut self,
        parent: Option<usize>,
        name: &str,
        attrs: Vec<(String, String)>,
        item: Option<usize>,
    ) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node {
            name: name.to_string(),
            attrs,
            children: Vec::new(),
            item,
        });
        if let Some(p) = parent {
            self.nodes[p].children.push(index);
        }
        index
    }

    fn descendants(&self, node: usize, out: &mut Vec<usize>) {
        for &c in &self.nodes[node].children {
            out.push(c);
            self.descendants(c, out);
        }
    }

    /// The data items `expr` selects, as a membership vector over the model's items.
    pub fn select(&self, expr: &PathExpr, items: usize) -> Vec<bool> {
        let mut selected = vec![false; items];
        for path in &expr.paths {
            let mut context = vec![0];
            for step in path {
                let mut next = Vec::new();
                for &n in &context {
                    let mut candidates = Vec::new();
                    if step.descendant {
                        self.descendants(n, &mut candidates);
                    } else {
                        candidates.extend(&self.nodes[n].children);
                    }
                    next.extend(candidates.into_iter().filter(|&c| {
                        let node = &self.nodes[c];
                        step.name.as_ref().is_none_or(|name| *name == node.name)
                            && step.predicates.iter().all(|p| p.holds(node))
                    }));
                }
                next.sort_unstable();
                next.dedup();
                context = next;
            }
            for n in context {
                let mut below = vec![n];
                if self.nodes[n].item.is_none() {
                    self.descendants(n, &mut below);
                }
                for m in below {
                    if let Some(i) = self.nodes[m].item {
                        selected[i] = true;
                    }
                }
            }
        }
        selected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBE: &str = r#"<MTConnectDevices><Devices>
      <Device id="d" name="M" uuid="m"><DataItems>
        <DataItem id="avail" category="EVENT" type="AVAILABILITY"/></DataItems>
      <Components><Axes id="ax"><Components>
        <Linear id="x" name="X"><DataItems>
          <DataItem id="xl" category="SAMPLE" type="LOAD" subType="ACTUAL" units="PERCENT"/>
          <DataItem id="xp" category="SAMPLE" type="POSITION" subType="ACTUAL" units="MILLIMETER"/>
        </DataItems></Linear>
        <Rotary id="c" name="C"><DataItems>
          <DataItem id="cl" category="SAMPLE" type="LOAD" units="PERCENT"/>
          <DataItem id="cc" category="CONDITION" type="SYSTEM"/>
        </DataItems></Rotary></Components></Axes></Components></Device>
      <Device id="d2" name="N" uuid="n"><DataItems>
        <DataItem id="avail2" category="EVENT" type="AVAILABILITY"/></DataItems></Device>
    </Devices></MTConnectDevices>"#;

    fn ids(path: &str) -> Vec<String> {
        let model = DeviceModel::parse("t.xml", PROBE).unwrap();
        let tree = DeviceTree::build(&model);
        let expr = PathExpr::parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let sel = tree.select(&expr, model.items.len());
        model
            .items
            .iter()
            .zip(sel)
            .filter(|(_, s)| *s)
            .map(|(i, _)| i.id.clone())
            .collect()
    }

    #[test]
    fn the_paths_cppagent_is_used_with_select_their_data_items() {
        assert_eq!(ids(r#"//DataItem[@type="LOAD"]"#), ["xl", "cl"]);
        assert_eq!(ids(r#"//DataItem[@category="SAMPLE"]"#), ["xl", "xp", "cl"]);
        assert_eq!(
            ids(r#"//Components//DataItem[@type="LOAD" and @subType="ACTUAL"]"#),
            ["xl"]
        );
        assert_eq!(
            ids(r#"//DataItem[@type='LOAD' or @category="CONDITION"]"#),
            ["xl", "cl", "cc"]
        );
        assert_eq!(ids("//Axes"), ["xl", "xp", "cl", "cc"]);
        assert_eq!(ids(r#"//Linear[@name="X"]"#), ["xl", "xp"]);
        assert_eq!(
            ids(r#"//Device[@name="M"]//DataItem[@id="avail"]"#),
            ["avail"]
        );
        assert_eq!(ids(r#"//Device[@name="N"]"#), ["avail2"]);
        assert_eq!(
            ids(r#"//Linear[@name="X"]|//DataItem[@type="AVAILABILITY"]"#),
            ["avail", "xl", "xp", "avail2"]
        );
        assert_eq!(
            ids("/MTConnectDevices/Devices/Device/DataItems/DataItem"),
            ["avail", "avail2"]
        );
        assert_eq!(ids(r#"//m:Rotary/*/*[@subType]"#), Vec::<String>::new());
        assert_eq!(
            ids(r#"//Linear/*/*[@subType != "ACTUAL"]"#),
            Vec::<String>::new()
        );
        assert_eq!(ids(r#"//Linear/*/*[(@subType)]"#), ["xl", "xp"]);
        assert_eq!(ids(r#"//Linear[@name="Y"]"#), Vec::<String>::new());
    }

    #[test]
    fn malformed_or_unsupported_paths_name_the_position() {
        for (path, position) in [
            ("//////Linear", 3),
            ("//Axes?//Linear", 7),
            (r#"//Devices/Device[@name="I_DON'T_EXIST""#, 39),
            (r#"//DataItem[@type="LOAD"#, 18),
            ("Axes", 1),
            ("//DataItem[1]", 12),
            ("//DataItem[@type=LOAD]", 18),
            ("//text()", 3),
            ("//Axes|", 8),
            ("//Axes]", 7),
        ] {
            let err = PathExpr::parse(path).unwrap_err();
            assert_eq!(err.position, position, "{path}: {err}");
        }
    }
}
