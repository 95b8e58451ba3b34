"""Model export: trained segmentation models as ONNX files (run with ONNX Runtime by ``antseg predict``)."""

from antseg.export.onnx_export import OnnxExport, export_onnx

__all__ = ["OnnxExport", "export_onnx"]
