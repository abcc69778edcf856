"""The compiler's version: written into every artifact (``.nir`` metadata, HLS sources, Lava
folders, golden files) so a file says which snnc made it. The one place it is spelled; the
package metadata reads it from here (pyproject ``dynamic = ["version"]``)."""

__version__ = "0.1.0"
