//! QR codes of a withdraw link's LNURL (LUD-01 recommends upper case, which QR encodes in its
//! compact alphanumeric mode): inline SVG for the voucher page, PNG for `qr.png`, and Unicode
//! half blocks for the CLI. Pure functions, no I/O.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The data does not fit in a QR code.
    #[error("cannot encode a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    /// The PNG encoder failed.
    #[error("cannot write the PNG: {0}")]
    Png(#[from] png::EncodingError),
}

fn code(data: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(
        data.as_bytes(),
        EcLevel::M,
    )?)
}

/// An SVG image (no XML prolog, so it can be inlined in HTML) that scales with its container.
pub fn svg(data: &str) -> Result<String, QrError> {
    let image = code(data)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    Ok(match image.find("<svg") {
        Some(start) => image[start..].to_string(),
        None => image,
    })
}

/// A greyscale PNG with `scale` pixels per module and a 4-module quiet zone.
pub fn png(data: &str, scale: u32) -> Result<Vec<u8>, QrError> {
    let code = code(data)?;
    let modules = code.to_colors();
    let width = u32::try_from(code.width()).unwrap_or(u32::MAX);
    let scale = scale.max(1);
    let quiet = 4;
    let side = (width + 2 * quiet) * scale;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (i, color) in modules.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let (mx, my) = (i % width, i / width);
        for dy in 0..scale {
            let row = ((my + quiet) * scale + dy) * side;
            let start = (row + (mx + quiet) * scale) as usize;
            pixels[start..start + scale as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}

/// The code drawn with Unicode half blocks (two modules per character), for a terminal.
pub fn terminal(data: &str) -> Result<String, QrError> {
    Ok(code(data)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_format() {
        let data = "LNURL1DP68GURN8GHJ7UM9WFMXJCM99E3K7MF0V9CXJ0M385EKVCENXC6R2C35XVUKXEFCV5MKVV34X5EKZD3EV56NYD3HXQURZEPEXEJXXEPNXSCRVWFNV9NXZCN9XQ6XYEFHVGCXXCMYXYMNSERXFQ5FNS";
        let s = svg(data).expect("svg");
        assert!(s.starts_with("<svg"));
        let p = png(data, 4).expect("png");
        assert_eq!(&p[1..4], b"PNG");
        assert!(terminal(data).expect("terminal").contains('█'));
    }
}
