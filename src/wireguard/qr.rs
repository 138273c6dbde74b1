//! A config as a QR code, for the WireGuard mobile apps: drawn with Unicode
//! blocks in the terminal, or written as a PNG.

use super::{Error, Result};
use qrcode::QrCode;
use qrcode::render::{Canvas, Pixel, unicode::Dense1x2};
use qrcode::types::Color;

fn encode(text: &str) -> Result<QrCode> {
    QrCode::new(text.as_bytes()).map_err(|e| Error::Qr(e.to_string()))
}

/// The QR code of `text` in Unicode half blocks, two modules per
/// character row, light modules drawn (for a terminal with a dark
/// background), with its quiet zone.
pub fn qr_terminal(text: &str) -> Result<String> {
    Ok(encode(text)?
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build())
}

/// Pixels of one module in the PNG, across and down.
const MODULE_PIXELS: u32 = 8;

/// The QR code of `text` as a black on white grayscale PNG with its quiet
/// zone, 8 pixels per module.
pub fn qr_png(text: &str) -> Result<Vec<u8>> {
    let image = encode(text)?
        .render::<Gray>()
        .module_dimensions(MODULE_PIXELS, MODULE_PIXELS)
        .build();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width, image.height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let png_error = |e: png::EncodingError| Error::Qr(e.to_string());
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(&image.pixels).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

/// An 8-bit gray pixel, for qrcode's renderer.
#[derive(Clone, Copy)]
struct Gray(u8);

/// A rendered grayscale image, row by row.
struct GrayImage {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

/// The canvas qrcode's renderer draws dark pixels on.
struct GrayCanvas {
    image: GrayImage,
    dark: u8,
}

impl Pixel for Gray {
    type Image = GrayImage;
    type Canvas = GrayCanvas;

    fn default_color(color: Color) -> Gray {
        Gray(color.select(0, 255))
    }
}

impl Canvas for GrayCanvas {
    type Pixel = Gray;
    type Image = GrayImage;

    fn new(width: u32, height: u32, dark: Gray, light: Gray) -> GrayCanvas {
        GrayCanvas {
            image: GrayImage {
                width,
                height,
                pixels: vec![light.0; width as usize * height as usize],
            },
            dark: dark.0,
        }
    }

    fn draw_dark_pixel(&mut self, x: u32, y: u32) {
        let at = y as usize * self.image.width as usize + x as usize;
        self.image.pixels[at] = self.dark;
    }

    fn into_image(self) -> GrayImage {
        self.image
    }
}
