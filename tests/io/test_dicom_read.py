"""Reading DICOM scans: every pixel format to exact 8-bit values, frames, transfer syntaxes (with and without their
decoder plugin) and bad files, each a one-line AntsegInputError naming the file."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydicom.pixels import get_decoder
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)
from tests.io.dicom_files import (
    casia_like,
    enhanced_radial,
    make_dicom,
    no_pixels,
    undecodable,
    visante_like,
)

from antseg.errors import AntsegInputError
from antseg.inference.inputs import collect_inputs
from antseg.io.dicom_read import expand_frames, frame_path, is_dicom, read_dicom, split_frame
from antseg.io.images import image_size, read_image, write_png

U8 = np.array([[0, 7, 128, 60], [200, 254, 255, 1]], np.uint8)
U16 = np.array([[0, 1000, 2000, 500], [3000, 4000, 4000, 250]], np.uint16)
#: U16 stretched from its lowest (0) to its highest (4000) value.
U16_STRETCHED = np.array([[0, 64, 128, 32], [191, 255, 255, 16]], np.uint8)


def test_8bit_unsigned_is_kept_and_monochrome1_is_inverted(tmp_path):
    assert (read_dicom(make_dicom(tmp_path / "a.dcm", U8), grayscale=True) == U8).all()
    inverted = read_dicom(make_dicom(tmp_path / "b.dcm", U8, photometric="MONOCHROME1"), grayscale=True)
    assert (inverted == 255 - U8).all()
    rgb = read_dicom(tmp_path / "a.dcm")  # grey as RGB: three equal channels
    assert rgb.shape == (2, 4, 3) and (rgb == U8[..., None]).all()


def test_16bit_without_window_is_stretched_over_its_values(tmp_path):
    assert (read_dicom(make_dicom(tmp_path / "a.dcm", U16, bits_stored=12), grayscale=True) == U16_STRETCHED).all()
    signed = (U16.astype(np.int32) - 3000).astype(np.int16)  # -3000..1000, as a Visante stores it
    assert (read_dicom(make_dicom(tmp_path / "s.dcm", signed), grayscale=True) == U16_STRETCHED).all()


def test_window_after_rescale_and_voi_function(tmp_path):
    # Rescale: HU-like = stored - 1000; window 0 +- 500 (LINEAR: center 0, width 1000).
    stored = np.array([[0, 500, 1000, 10], [1250, 1500, 2000, 1001]], np.uint16)
    path = make_dicom(tmp_path / "w.dcm", stored, bits_stored=12, RescaleSlope=1, RescaleIntercept=-1000,
                      WindowCenter=0, WindowWidth=1000)  # fmt: skip
    values = stored.astype(float) - 1000
    expect = np.clip(np.rint(((values - (0 - 0.5)) / (1000 - 1) + 0.5) * 255), 0, 255)
    expect[values <= -0.5 - 999 / 2] = 0
    expect[values > -0.5 + 999 / 2] = 255
    assert (read_dicom(path, grayscale=True) == expect).all()
    sig = make_dicom(tmp_path / "g.dcm", stored, bits_stored=12, WindowCenter=1000, WindowWidth=400,
                     VOILUTFunction="SIGMOID")  # fmt: skip
    expect = np.rint(255 / (1 + np.exp(-4 * (stored.astype(float) - 1000) / 400)))
    assert (read_dicom(sig, grayscale=True) == expect).all()
    multi = make_dicom(tmp_path / "m.dcm", stored, bits_stored=12, WindowCenter=[1000, 0], WindowWidth=[2001, 10])
    assert read_dicom(multi, grayscale=True)[0, 2] == 128  # the first window is the default view


def test_colour(tmp_path):
    rgb = np.stack([U8, 255 - U8, U8 // 2], axis=-1)
    assert (read_dicom(make_dicom(tmp_path / "c.dcm", rgb)) == rgb).all()
    grey = read_dicom(tmp_path / "c.dcm", grayscale=True)
    assert (grey == cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)).all()
    deep = (rgb.astype(np.uint16) << 8) | 0xFF  # 16 bits per sample: the top 8 are kept
    assert (read_dicom(make_dicom(tmp_path / "d.dcm", deep)) == rgb).all()


def test_multi_frame_files_are_one_scan_per_frame(tmp_path):
    frames = np.stack([U8, U8 // 2, 255 - U8, U8 // 3])
    path = make_dicom(tmp_path / "radial.dcm", frames)
    names = expand_frames(path)
    assert [p.name for p in names] == ["radial#001.dcm", "radial#002.dcm", "radial#003.dcm", "radial#004.dcm"]
    assert len({p.stem for p in names}) == 4 and split_frame(names[1]) == (path, 1)
    for p, f in zip(names, frames, strict=True):
        assert (read_dicom(p, grayscale=True) == f).all() and (read_image(p, grayscale=True) == f).all()
    with pytest.raises(AntsegInputError, match="holds 4 frames: name one as radial#001.dcm"):
        read_dicom(path)
    with pytest.raises(AntsegInputError, match="no such frame"):
        read_dicom(tmp_path / "radial#005.dcm")
    plain = tmp_path / "IM0001"  # no suffix: found by its DICM marker, frame names get .dcm
    plain.write_bytes(path.read_bytes())
    assert is_dicom(plain) and frame_path(plain, 9, 10).name == "IM0001#010.dcm"
    assert (read_image(expand_frames(plain)[2], grayscale=True) == frames[2]).all()


def test_enhanced_multi_frame_windows_each_frame(tmp_path):
    frames = np.stack([U16, U16]).astype(np.uint16)
    path = enhanced_radial(tmp_path / "e.dcm", frames, windows=[(2000, 4001), (1000, 2001)])
    first, second = (read_dicom(p, grayscale=True) for p in expand_frames(path))
    assert first[0, 2] == 128 and second[0, 1] == 128 and second[0, 2] == 255


@pytest.mark.parametrize(
    "syntax", [RLELossless, DeflatedExplicitVRLittleEndian, JPEGLSLossless, JPEG2000Lossless],
    ids=["RLE", "deflated", "JPEG-LS", "JPEG2000"],
)  # fmt: skip
@pytest.mark.parametrize("pixels", ["u8", "u16", "rgb"])
def test_lossless_transfer_syntaxes(tmp_path, syntax, pixels):
    tiles = (16, 16)  # the JPEG-LS and JPEG 2000 encoders refuse a 2 x 4 image
    arr = {"u8": U8, "u16": U16, "rgb": np.stack([U8, 255 - U8, U8 // 2], axis=-1)}[pixels]
    arr = np.tile(arr, tiles + (1,) * (arr.ndim - 2))
    if syntax != RLELossless and "1.2.4" in syntax:
        pytest.importorskip("jpeg_ls" if syntax == JPEGLSLossless else "openjpeg")  # the dicom extra's encoders
    path = tmp_path / "t.dcm"
    if syntax == DeflatedExplicitVRLittleEndian:  # pydicom deflates the whole data set as it writes it
        import pydicom

        ds = pydicom.dcmread(make_dicom(path, arr))
        ds.file_meta.TransferSyntaxUID = syntax
        ds.save_as(path)
    else:
        make_dicom(path, arr, transfer_syntax=syntax)
    expect = {"u8": np.tile(U8, tiles), "u16": np.tile(U16_STRETCHED, tiles), "rgb": arr}[pixels]
    assert (read_dicom(path, grayscale=pixels != "rgb") == expect).all()


def test_jpeg_baseline_through_pillow(tmp_path):
    img = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (32, 1))
    out = read_dicom(make_dicom(tmp_path / "j.dcm", img, transfer_syntax=JPEGBaseline8Bit), grayscale=True)
    assert np.abs(out.astype(int) - img).max() <= 8  # lossy


def test_compressed_without_its_plugin_says_what_to_install(tmp_path, monkeypatch):
    pytest.importorskip("jpeg_ls")
    path = make_dicom(tmp_path / "ls.dcm", np.tile(U8, (8, 16)), transfer_syntax=JPEGLSLossless)
    decoder = get_decoder(JPEGLSLossless)
    monkeypatch.setattr(decoder, "_available", {})
    monkeypatch.setattr(decoder, "_unavailable", {"pyjpegls": ("pyjpegls>=1.2",)})
    with pytest.raises(AntsegInputError, match=r"ls.dcm: compressed as JPEG-LS .* pip install pyjpegls$"):
        read_dicom(path)
    lossless = get_decoder(JPEGLosslessSV1)  # nothing here decodes JPEG Lossless: say so, with both options
    monkeypatch.setattr(lossless, "_available", {})
    plugins = {"gdcm": ("gdcm>=3.0.10",), "pylibjpeg": ("pylibjpeg>=2.0", "pylibjpeg-libjpeg>=2.1")}
    monkeypatch.setattr(lossless, "_unavailable", plugins)
    with pytest.raises(AntsegInputError, match=r"pip install python-gdcm \(or\) pylibjpeg pylibjpeg-libjpeg"):
        read_dicom(undecodable(tmp_path / "jl.dcm", JPEGLosslessSV1))


def test_bad_files(tmp_path):
    text = tmp_path / "notes.dcm"
    text.write_text("not a DICOM file at all")
    good = make_dicom(tmp_path / "good.dcm", np.tile(U16, (40, 40)))
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    head = tmp_path / "head.dcm"
    head.write_bytes(good.read_bytes()[:200])
    cases = {
        text: "not a DICOM file",
        cut: "cannot decode its pixel data, truncated or corrupt",
        head: "truncated or corrupt",
        no_pixels(tmp_path / "sr.dcm"): "DICOM without pixel data (Basic Text SR Storage)",
        tmp_path / "missing.dcm": "does not exist",
    }
    for path, problem in cases.items():
        with pytest.raises(AntsegInputError) as err:
            read_image(path)
        assert str(err.value).startswith(f"{path}: ") and problem in str(err.value), str(err.value)
        assert "\n" not in str(err.value)


def test_devices_exports_and_discovery(tmp_path):
    v = visante_like(tmp_path / "visante.dcm")
    assert read_image(v).shape == (512, 1024, 3) and image_size(v) == (1024, 512)
    img = np.tile(np.arange(256, dtype=np.uint8), (10, 2))
    assert (read_image(visante_like(tmp_path / "small.dcm", img), grayscale=True) == img).all()  # stored * 40 - 3000
    assert (read_image(casia_like(tmp_path / "casia.dcm", img), grayscale=True) == img).all()
    enhanced_radial(tmp_path / "radial.dcm")
    write_png(tmp_path / "a.png", img)
    (tmp_path / "notes.txt").write_text("x")
    found = collect_inputs([tmp_path])
    assert [p.name for p in found] == ["a.png", "casia.dcm", "radial#001.dcm", "radial#002.dcm", "radial#003.dcm",
                                       "small.dcm", "visante.dcm"]  # fmt: skip
    assert collect_inputs([tmp_path / "radial#002.dcm"]) == [tmp_path / "radial#002.dcm"]  # one frame, by name
    with pytest.raises(AntsegInputError, match="DICOM without pixel data"):
        collect_inputs([no_pixels(tmp_path / "zz_report.dcm")])


def test_implicit_vr_and_jpeg2000_through_pillow_alone(tmp_path, monkeypatch):
    import pydicom
    from pydicom.uid import ImplicitVRLittleEndian

    ds = pydicom.dcmread(make_dicom(tmp_path / "e.dcm", U16, bits_stored=12))
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(tmp_path / "i.dcm")
    assert (read_dicom(tmp_path / "i.dcm", grayscale=True) == U16_STRETCHED).all()
    pytest.importorskip("openjpeg")  # the encoder
    arr = np.tile(U16, (16, 16))
    path = make_dicom(tmp_path / "j.dcm", arr, bits_stored=12, transfer_syntax=JPEG2000Lossless)
    decoder = get_decoder(JPEG2000Lossless)
    monkeypatch.setattr(decoder, "_available", {k: v for k, v in decoder._available.items() if k == "pillow"})
    assert decoder.available_plugins == ("pillow",)  # Pillow, an antseg dependency, decodes JPEG 2000 alone
    assert (read_dicom(path, grayscale=True) == np.tile(U16_STRETCHED, (16, 16))).all()


def test_palette_colour(tmp_path):
    lut = np.arange(256, dtype=np.uint16) * 257  # 16-bit entries
    luts = {"Red": lut, "Green": lut[::-1].copy(), "Blue": np.full(256, 0x8000, np.uint16)}
    attrs = {}
    for colour, table in luts.items():
        attrs[f"{colour}PaletteColorLookupTableDescriptor"] = [256, 0, 16]
        attrs[f"{colour}PaletteColorLookupTableData"] = table.tobytes()
    path = make_dicom(tmp_path / "p.dcm", U8, photometric="PALETTE COLOR", **attrs)
    rgb = read_dicom(path)
    assert (rgb[..., 0] == U8).all() and (rgb[..., 1] == 255 - U8).all() and (rgb[..., 2] == 128).all()
