"""antseg's shipped default models, trained on the realistic phantom only (synthetic data, no real scan).

This package holds the files (package data) and the scripts that rebuild them; the word ``default`` that names
them is resolved by :mod:`antseg.models.shipped`, and their card is read by :mod:`antseg.models.model_card`.

- ``segmentation.pt``: an ``ensemble`` of two ``unet-lite`` networks (seeds 0 and 1, averaged) for the anterior
  chamber, lens, nucleus, left and right iris and cornea;
- ``spurs.pt``: the two-stage scleral-spur model;
- ``surgical.pt`` (and ``surgical.onnx``, the same network for ONNX Runtime): ``unet-lite`` for the limbus-bounded
  cornea disc, the pupil and the instruments of cataract-surgery video, trained on the surgical phantom only;
  its measured figures are in ``surgical.card.json``;
- ``model_card.json``: what the AS-OCT models measure (written by ``benchmarks/bench_model_card.py``).

They are rebuilt, seeded, by ``python -m antseg.pretrained.train`` and ``python -m antseg.pretrained.train_surgical``.
"""
