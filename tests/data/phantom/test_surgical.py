"""The surgical phantom: exact Cornea / Pupil / instrument polygons and masks (as the Supervisely importer
rasterises them), what a frame looks like where the masks say, the miosis of a video, frames without an eye,
16:9 videos, and determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest

from antseg.data.canonical import load_dataset
from antseg.data.masks import rasterize_polygon_cv2
from antseg.data.phantom.surgical import INSTRUMENTS, Scene, sample_view, supervisely_json
from antseg.data.phantom.writer import SURGICAL_STRUCTURES, SurgicalPhantomConfig, generate_surgical_dataset
from antseg.errors import AntsegInputError

W, H = 320, 240


def _scene(seed: int, **view_changes) -> Scene:
    view = sample_view(np.random.default_rng([seed, 1]), W, H)
    for k, v in view_changes.items():
        setattr(view, k, v)
    return Scene(view, W, H)


def test_default_dataset_and_its_supervisely_copy(surgical_phantom):
    import av

    ds = load_dataset(surgical_phantom)
    assert ds.manifest.modality == "surgical" and ds.structures == ["cornea", "pupil"]
    assert len({c.patient_id for c in ds}) == 3
    for c in ds.cases:
        ann = json.loads(
            (surgical_phantom / "supervisely" / c.patient_id / "ann" / f"{c.case_id}.png.json").read_text()
        )
        titles = [o["classTitle"] for o in ann["objects"]]
        assert titles[:2] == ["Cornea", "Pupil"] and set(titles[2:]) <= set(INSTRUMENTS)
        masks = ds.load_masks(c)
        for k in range(2):  # exactly the importer's rasterisation of the polygon
            poly = np.array(ann["objects"][k]["points"]["exterior"])
            np.testing.assert_array_equal(masks[k], rasterize_polygon_cv2(poly, [], c.width, c.height))
        assert masks[1].sum() < masks[0].sum() and not (masks[1] & ~masks[0].astype(bool)).any()  # pupil in the disc
    with av.open(str(surgical_phantom / "videos" / f"{ds.cases[0].patient_id}.mp4")) as v:
        frames = list(v.decode(video=0))
    assert len(frames) == 4 and frames[0].width == 256


def test_the_image_shows_what_the_masks_say():
    scene = _scene(3, tools=())
    scene.view.optics.light_size, scene.view.optics.ambient = 50.0, 1.0  # even light: compare the tissue itself
    fr = scene.frame(1.0, np.random.default_rng(0))
    cornea, pupil = fr.masks["Cornea"].astype(bool), fr.masks["Pupil"].astype(bool)
    img = fr.image.astype(float)
    ring = np.zeros_like(cornea)
    ys, xs = np.nonzero(cornea)
    cy, cx, r = ys.mean(), xs.mean(), np.sqrt(cornea.sum() / np.pi)
    yy, xx = np.mgrid[0:H, 0:W]
    d = np.hypot(yy - cy, xx - cx)
    ring = (d > 1.15 * r) & (d < 1.4 * r)  # sclera just outside the limbus
    iris = cornea & ~pupil & (d < 0.97 * r)
    assert img[pupil][:, 0].mean() > 1.3 * img[pupil][:, 2].mean()  # the red reflex
    assert img[ring].mean() > img[iris].mean()  # the sclera is brighter than the iris ring
    assert img[ring].mean() > img[pupil].mean()


def test_instruments_are_exact_and_occlude_the_disc():
    scene = _scene(5)
    for t in np.linspace(0, 6, 7):
        fr = scene.frame(float(t), np.random.default_rng(int(t)), tools="video")
        tools = [k for k in fr.masks if k in INSTRUMENTS]
        for k in tools:
            expect = np.zeros((H, W), np.uint8)
            for poly in fr.polygons[k]:
                expect |= rasterize_polygon_cv2(poly, [], W, H)
                assert poly[:, 0].min() >= 0 and poly[:, 0].max() <= W - 1 and poly[:, 1].max() <= H - 1
            np.testing.assert_array_equal(fr.masks[k], expect)
        if tools:
            doc = supervisely_json(fr, W, H)
            assert sum(o["classTitle"] in INSTRUMENTS for o in doc["objects"]) == sum(
                len(fr.polygons[k]) for k in tools
            )
            return
    pytest.fail("no instrument in 7 frames")


def test_a_video_can_constrict_its_pupil():
    scene = _scene(2, miosis=0.3, miosis_at=1.0, miosis_s=2.0)
    before = scene.frame(0.5, np.random.default_rng(0), drift=0, jitter=0).masks["Pupil"].sum()
    after = scene.frame(4.0, np.random.default_rng(0), drift=0, jitter=0).masks["Pupil"].sum()
    assert after / before == pytest.approx(0.7**2, rel=0.06)


def test_frames_without_an_eye_and_wide_videos(tmp_path):
    cfg = SurgicalPhantomConfig(videos=4, frames_per_video=1, size=(160, 120), no_eye=0.5, wide=0.5,
                                structures=SURGICAL_STRUCTURES, seed=2)  # fmt: skip
    ds = load_dataset(generate_surgical_dataset(tmp_path / "a", cfg))
    assert ds.structures == ["cornea", "pupil", "instrument"]
    assert {c.width for c in ds} == {160, 214}  # 4:3 and 16:9 at the same height
    empty = [c for c in ds if not ds.load_masks(c)[:2].any()]
    assert 0 < len(empty) < len(ds)  # no eye: nothing to find
    for c in empty:
        ann = json.loads((tmp_path / "a" / "supervisely" / c.patient_id / "ann" / f"{c.case_id}.png.json").read_text())
        assert ann["objects"] == []
    cfg.workers = 2  # rendering in two processes gives the same frames
    again = generate_surgical_dataset(tmp_path / "b", cfg)
    for c in ds:
        assert (tmp_path / "a" / c.image).read_bytes() == (again / c.image).read_bytes()


@pytest.mark.parametrize("change", [{"structures": ("cornea", "lens")}, {"structures": ()}, {"no_eye": 1.5}])
def test_bad_settings_are_refused(change, tmp_path):
    with pytest.raises(AntsegInputError):
        generate_surgical_dataset(tmp_path / "x", SurgicalPhantomConfig(videos=1, frames_per_video=1, **change))
    assert not (tmp_path / "x").exists()
