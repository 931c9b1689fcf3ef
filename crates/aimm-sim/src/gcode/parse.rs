//! Text → [`Program`]: splits lines into words (packed `G90G20M03`, spaced, lower case, CRLF),
//! collects comments, handles `%`, `N`, `O` and `/`, and rejects malformed blocks: letters without
//! numbers, bad numbers, unclosed comments, unknown letters, repeated words and two G codes of one
//! modal group in one block.

use super::error::ParseError;
use super::expr::Assignment;
use super::expr::{self, Expr, ParamRef};
use super::lexer::Cursor;
use super::modal::{g_code, group_of};
use super::program::{Block, Comment, OStatement, OWord, Program, Word};

/// Reads a whole program. `source_name` names it in errors.
pub fn parse(source_name: &str, text: &str) -> Result<Program, ParseError> {
    let mut program = Program {
        name: source_name.to_string(),
        blocks: Vec::new(),
        comments: Vec::new(),
    };
    let mut tape_marks = 0;
    for (i, raw) in text.split('\n').enumerate() {
        let line = i as u32 + 1;
        let body = raw.strip_suffix('\r').unwrap_or(raw);
        if body.trim_start().starts_with('%') {
            tape_marks += 1;
            // The second tape mark, or one after the program began, ends the tape.
            if tape_marks > 1 || !program.blocks.is_empty() {
                break;
            }
            continue;
        }
        let block =
            parse_line(line, body, &mut program.comments).map_err(|(pos, message)| ParseError {
                source: source_name.to_string(),
                line,
                column: Cursor::new(body).column_of(pos),
                message,
            })?;
        if let Some(b) = block {
            program.blocks.push(b);
        }
    }
    Ok(program)
}

type LineResult<T> = Result<T, (usize, String)>;

fn parse_line(line: u32, text: &str, comments: &mut Vec<Comment>) -> LineResult<Option<Block>> {
    let mut c = Cursor::new(text);
    let mut block = Block {
        line,
        deletable: false,
        number: None,
        words: Vec::new(),
        assignments: Vec::new(),
        o_word: None,
    };
    c.skip_spaces();
    if c.peek() == Some(b'/') {
        block.deletable = true;
        c.bump();
    }
    // Byte offset where each letter was first seen, to reject repeats.
    let mut seen = [None::<usize>; 26];
    let mut g_groups: Vec<(u8, f64)> = Vec::new();
    loop {
        c.skip_spaces();
        let Some(ch) = c.peek() else { break };
        let at = c.pos;
        match ch {
            b'(' => {
                let Some(close) = c.rest().find(')') else {
                    return Err((at, "unclosed comment: '(' without ')'".into()));
                };
                comments.push(Comment {
                    line,
                    text: c.rest()[1..close].trim().to_string(),
                });
                c.pos += close + 1;
            }
            b';' => {
                comments.push(Comment {
                    line,
                    text: c.rest()[1..].trim().to_string(),
                });
                break;
            }
            b'#' => {
                let target = assignment_target(&mut c)?;
                c.skip_spaces();
                if c.peek() != Some(b'=') {
                    return Err((c.pos, "expected '=' after parameter in assignment".into()));
                }
                c.bump();
                let value = expr::value(&mut c)?;
                block.assignments.push(Assignment {
                    target,
                    value,
                    column: c.column_of(at),
                });
            }
            b'O' | b'o' if block.words.is_empty() && block.number.is_none() => {
                c.bump();
                block.o_word = o_word(&mut c, at)?;
                if block.o_word.is_some() {
                    // The rest of an O-word line is its arguments or a comment.
                    continue;
                }
            }
            _ if ch.is_ascii_alphabetic() => {
                let letter = ch.to_ascii_uppercase();
                if !b"ABCDFGHIJKLMNPQRSTUVWXYZ".contains(&letter) {
                    return Err((at, format!("unknown word letter '{}'", letter as char)));
                }
                if block.o_word.is_some() {
                    return Err((at, "words after an O-word statement".into()));
                }
                c.bump();
                c.skip_spaces();
                if c.at_end() || !(c.at_number() || matches!(c.peek(), Some(b'#' | b'['))) {
                    return Err((at, format!("word '{}' has no number", letter as char)));
                }
                let value = expr::value(&mut c)?;
                let slot = &mut seen[(letter - b'A') as usize];
                if letter != b'G' && letter != b'M' {
                    if slot.is_some() {
                        return Err((at, format!("two {} words in one block", letter as char)));
                    }
                    *slot = Some(at);
                }
                if letter == b'N' {
                    block.number = match value {
                        Expr::Num(v) if v >= 0.0 && v.fract() == 0.0 => Some(v as u32),
                        _ => return Err((at, "N needs a whole number".into())),
                    };
                    continue;
                }
                if letter == b'G' {
                    if let Expr::Num(v) = value {
                        check_group(&mut g_groups, v, at)?;
                    }
                }
                block.words.push(Word {
                    letter: letter as char,
                    value,
                    column: c.column_of(at),
                });
            }
            _ => {
                let shown = c.rest().chars().next().unwrap_or(' ');
                return Err((at, format!("unexpected character '{shown}'")));
            }
        }
    }
    let empty = block.words.is_empty()
        && block.assignments.is_empty()
        && block.o_word.is_none()
        && block.number.is_none();
    Ok((!empty).then_some(block))
}

/// Rejects a second G code of the same modal group in one block.
fn check_group(groups: &mut Vec<(u8, f64)>, g: f64, at: usize) -> LineResult<()> {
    let Some(group) = g_code(g).and_then(group_of) else {
        return Ok(());
    };
    if let Some((_, other)) = groups.iter().find(|(gr, _)| *gr == group) {
        return Err((
            at,
            format!(
                "G{g} and G{other} are in the same modal group; only one may appear in a block"
            ),
        ));
    }
    groups.push((group, g));
    Ok(())
}

fn assignment_target(c: &mut Cursor) -> LineResult<ParamRef> {
    c.bump();
    c.skip_spaces();
    if c.peek() == Some(b'<') {
        return Ok(ParamRef::Named(expr::named(c)?));
    }
    Ok(ParamRef::Numbered(expr::value(c)?))
}

/// After the `O` letter at the start of a block: a LinuxCNC O-word statement, or `None` for a
/// Fanuc program number (`O1001`), which has no effect.
fn o_word(c: &mut Cursor, at: usize) -> LineResult<Option<OWord>> {
    c.skip_spaces();
    if c.peek() == Some(b'<') {
        return Err((at, "named O-words (o<name>) are not supported".into()));
    }
    let n = c.number()?;
    if n < 0.0 || n.fract() != 0.0 {
        return Err((at, "O needs a whole number".into()));
    }
    c.skip_spaces();
    let column = c.column_of(at);
    let statement = if c.eat_keyword("sub") {
        OStatement::Sub
    } else if c.eat_keyword("endsub") {
        OStatement::EndSub
    } else if c.eat_keyword("return") {
        OStatement::Return
    } else if c.eat_keyword("call") {
        let mut args = Vec::new();
        loop {
            c.skip_spaces();
            if c.peek() != Some(b'[') {
                break;
            }
            args.push(expr::value(c)?);
        }
        OStatement::Call(args)
    } else if c.eat_keyword("while") {
        OStatement::While(expr::value(c)?)
    } else if c.eat_keyword("endwhile") {
        OStatement::EndWhile
    } else if c.eat_keyword("if") {
        OStatement::If(expr::value(c)?)
    } else if c.eat_keyword("elseif") {
        OStatement::ElseIf(expr::value(c)?)
    } else if c.eat_keyword("else") {
        OStatement::Else
    } else if c.eat_keyword("endif") {
        OStatement::EndIf
    } else if c.peek().is_some_and(|b| b.is_ascii_alphabetic())
        && c.peek_at(1).is_some_and(|b| b.is_ascii_alphabetic())
    {
        return Err((c.pos, "unsupported O-word statement".into()));
    } else {
        return Ok(None);
    };
    Ok(Some(OWord {
        number: n as u32,
        statement,
        column,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (u32, u32, String) {
        let e = parse("t.nc", text).unwrap_err();
        (e.line, e.column, e.message)
    }

    fn num(w: &Word) -> f64 {
        match w.value {
            Expr::Num(v) => v,
            _ => panic!("not a number"),
        }
    }

    #[test]
    fn packed_words_comments_and_marks() {
        let p = parse(
            "t.nc",
            "%\r\nO1001 (PART)\r\nN10 g90g20m03s2000 ; spin\r\n/T2M6S1527F244.3( 10. END_MILL )  \r\nX.5Y-0.Z+1\r\n%\r\nG1 X9\r\n",
        )
        .unwrap();
        assert_eq!(p.blocks.len(), 3);
        let b = &p.blocks[0];
        assert_eq!((b.line, b.number), (3, Some(10)));
        let letters: String = b.words.iter().map(|w| w.letter).collect();
        assert_eq!(letters, "GGMS");
        assert_eq!(num(&b.words[3]), 2000.0);
        assert!(p.blocks[1].deletable);
        assert_eq!(num(p.blocks[1].word('F').unwrap()), 244.3);
        let b = &p.blocks[2];
        assert_eq!(
            b.words.iter().map(num).collect::<Vec<_>>(),
            vec![0.5, -0.0, 1.0]
        );
        let texts: Vec<_> = p
            .comments
            .iter()
            .map(|c| (c.line, c.text.as_str()))
            .collect();
        assert_eq!(texts, vec![(2, "PART"), (3, "spin"), (4, "10. END_MILL")]);
    }

    #[test]
    fn malformed_blocks_name_line_and_column() {
        let (line, col, msg) = err("G1 X1\nG1 X Y2\n");
        assert_eq!((line, col), (2, 4));
        assert!(msg.contains("no number"), "{msg}");
        let (line, col, msg) = err("G0\n\nG1 X1.2.3");
        assert_eq!((line, col), (3, 8));
        assert!(msg.contains("decimal point"), "{msg}");
        let (line, col, msg) = err("G0 (open\n");
        assert_eq!((line, col), (1, 4));
        assert!(msg.contains("unclosed"), "{msg}");
        assert_eq!(err("G1 E5").1, 4);
        let (line, col, msg) = err("G1 X1 Y2 X3");
        assert_eq!((line, col), (1, 10));
        assert!(msg.contains("two X"), "{msg}");
        let (_, col, msg) = err("G0 G1 X1");
        assert_eq!(col, 4);
        assert!(msg.contains("modal group"), "{msg}");
        assert_eq!(err("G1 X1 $").1, 7);
        assert_eq!(err("G1 X[1+").1, 8);
        assert_eq!(err("M3\nG17 G18").0, 2);
    }

    #[test]
    fn different_groups_and_repeated_m_are_fine() {
        let p = parse("t", "G17 G54 G40 G49 G80 G90 G0\nM5 M9\nG28 G91 Z0.\n").unwrap();
        assert_eq!(p.blocks.len(), 3);
    }

    #[test]
    fn linuxcnc_words() {
        let p = parse(
            "t",
            "#100=10.0 (feed)\no100 call [1] [2+#1]\nG1 F#100 X[#1/2]\n",
        )
        .unwrap();
        assert_eq!(p.blocks[0].assignments.len(), 1);
        let o = p.blocks[1].o_word.as_ref().unwrap();
        assert_eq!(o.number, 100);
        assert!(matches!(&o.statement, OStatement::Call(a) if a.len() == 2));
        assert!(matches!(p.blocks[2].words[1].value, Expr::Param(_)));
    }
}
