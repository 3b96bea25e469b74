//! The PDF copy of an invoice: A4, the standard Helvetica fonts (every reader has them, so
//! no font file ships), pages added as the lines need them.
//!
//! The standard fonts only know Latin text: names are folded to ASCII (accents dropped)
//! rather than printed as mojibake; the JSON invoice keeps them exact.

use printpdf::{BuiltinFont, IndirectFontRef, Mm, PdfDocument, PdfDocumentReference};
use printpdf::{Line as Rule, PdfLayerReference, Point};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::model::{money, Invoice, InvoiceKind, TaxKind};
use crate::error::Error;

const WIDTH: f32 = 210.0;
const HEIGHT: f32 = 297.0;
const LEFT: f32 = 20.0;
const RIGHT: f32 = 190.0;
const BOTTOM: f32 = 25.0;
const BODY: f32 = 9.0;
const LINE: f32 = 5.0;
/// Description column width, in characters, before it wraps.
const WRAP: usize = 58;

/// Folds text to what the standard fonts print: ASCII, accents dropped.
fn printable(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Helvetica advance widths (per 1,000 units of the font size) of what amounts are made of.
fn text_width_mm(text: &str, size: f32) -> f32 {
    let units: f32 = text
        .chars()
        .map(|c| match c {
            '0'..='9' => 556.0,
            '.' | ',' | ' ' => 278.0,
            '-' => 333.0,
            'A'..='Z' => 667.0,
            _ => 556.0,
        })
        .sum();
    units / 1000.0 * size * 0.3528
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() && current.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// Writes top to bottom, starting a new page when the current one is full.
struct Writer {
    doc: PdfDocumentReference,
    layer: PdfLayerReference,
    regular: IndirectFontRef,
    bold: IndirectFontRef,
    y: f32,
}

impl Writer {
    fn text(&self, text: &str, x: f32, size: f32, bold: bool) {
        let font = if bold { &self.bold } else { &self.regular };
        self.layer
            .use_text(printable(text), size, Mm(x), Mm(self.y), font);
    }

    fn right(&self, text: &str, x: f32, size: f32, bold: bool) {
        let printed = printable(text);
        let width = text_width_mm(&printed, size);
        self.text(&printed, x - width, size, bold);
    }

    fn rule(&self) {
        let y = self.y + 3.0;
        self.layer.add_line(Rule {
            points: vec![
                (Point::new(Mm(LEFT), Mm(y)), false),
                (Point::new(Mm(RIGHT), Mm(y)), false),
            ],
            is_closed: false,
        });
    }

    fn down(&mut self, mm: f32) {
        self.y -= mm;
        if self.y < BOTTOM {
            let (page, layer) = self.doc.add_page(Mm(WIDTH), Mm(HEIGHT), "invoice");
            self.layer = self.doc.get_page(page).get_layer(layer);
            self.y = HEIGHT - 25.0;
        }
    }
}

/// Renders the invoice as a PDF document.
pub fn render(invoice: &Invoice) -> Result<Vec<u8>, Error> {
    let pdf_error = |e: printpdf::Error| Error::Internal(format!("pdf: {e}"));
    let title = match invoice.kind {
        InvoiceKind::Invoice => "Invoice",
        InvoiceKind::CreditNote => "Credit note",
    };
    let (doc, page, layer) = PdfDocument::new(
        format!("{title} {}", invoice.number),
        Mm(WIDTH),
        Mm(HEIGHT),
        "invoice",
    );
    let regular = doc
        .add_builtin_font(BuiltinFont::Helvetica)
        .map_err(pdf_error)?;
    let bold = doc
        .add_builtin_font(BuiltinFont::HelveticaBold)
        .map_err(pdf_error)?;
    let layer = doc.get_page(page).get_layer(layer);
    let mut w = Writer {
        doc,
        layer,
        regular,
        bold,
        y: HEIGHT - 25.0,
    };
    let amount = |cents| money(cents, invoice.minor_digits, &invoice.currency);

    w.text(&format!("{title} {}", invoice.number), LEFT, 18.0, true);
    w.down(10.0);
    w.text(
        &format!("Issued {} UTC", invoice.issued_at.format("%Y-%m-%d %H:%M")),
        LEFT,
        BODY,
        false,
    );
    w.down(LINE);
    if let Some(corrects) = invoice.corrects {
        w.text(&format!("Cancels invoice id {corrects}"), LEFT, BODY, false);
        w.down(LINE);
    }
    w.down(LINE);
    w.text("From", LEFT, BODY, true);
    w.text("To", 110.0, BODY, true);
    w.down(LINE);
    w.text(&invoice.issuer_name, LEFT, BODY, false);
    w.text(&invoice.customer_name, 110.0, BODY, false);
    w.down(LINE);
    if invoice.issuer_id.is_some() {
        w.text(
            "issued on the host's behalf by the platform",
            LEFT,
            8.0,
            false,
        );
    }
    w.text(&invoice.customer_email, 110.0, BODY, false);
    w.down(2.0 * LINE);
    for part in wrap(&invoice.subject, 95) {
        w.text(&part, LEFT, BODY, false);
        w.down(LINE);
    }
    w.down(LINE);

    w.text("Description", LEFT, BODY, true);
    w.right("Quantity", 135.0, BODY, true);
    w.right("Unit price", 160.0, BODY, true);
    w.right("Amount", RIGHT, BODY, true);
    w.down(LINE);
    w.rule();
    for line in &invoice.lines {
        let quantity = match (&line.quantity, &line.unit) {
            (Some(q), Some(u)) => format!("{} {u}", q.normalize()),
            (Some(q), None) => q.normalize().to_string(),
            _ => String::new(),
        };
        let unit_price = line
            .unit_price
            .map(|p| p.normalize().to_string())
            .unwrap_or_default();
        for (i, part) in wrap(&line.description, WRAP).iter().enumerate() {
            w.text(part, LEFT, BODY, false);
            if i == 0 {
                w.right(&quantity, 135.0, BODY, false);
                w.right(&unit_price, 160.0, BODY, false);
                w.right(&amount(line.amount_cents), RIGHT, BODY, false);
            }
            w.down(LINE);
        }
    }
    w.rule();
    w.right("Lines", 160.0, BODY, false);
    w.right(&amount(invoice.lines_cents), RIGHT, BODY, false);
    w.down(LINE);
    for tax in &invoice.tax_lines {
        let label = match invoice.tax_kind {
            TaxKind::VatIncluded => {
                format!("{} included, on {}", tax.name, amount(tax.taxable_cents))
            }
            TaxKind::SalesTax | TaxKind::None => {
                format!("{} on {}", tax.name, amount(tax.taxable_cents))
            }
        };
        w.right(&label, 160.0, BODY, false);
        w.right(&amount(tax.tax_cents), RIGHT, BODY, false);
        w.down(LINE);
    }
    w.right("Total", 160.0, 11.0, true);
    w.right(&amount(invoice.total_cents), RIGHT, 11.0, true);
    w.down(3.0 * LINE);
    w.text(
        "Paid from the wallet or card on the account. Amounts in minor-unit precision.",
        LEFT,
        8.0,
        false,
    );
    w.doc.save_to_bytes().map_err(pdf_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_folded_to_what_the_fonts_print() {
        assert_eq!(printable("Café Zoë → 5 €"), "Cafe Zoe ? 5 ?");
    }

    #[test]
    fn long_descriptions_wrap_on_words() {
        let lines = wrap("energy charged during the off-peak window at night", 20);
        assert_eq!(
            lines,
            ["energy charged", "during the off-peak", "window at night"]
        );
        assert_eq!(wrap("", 20), [""]);
    }
}
