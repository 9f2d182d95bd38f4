"""Bilinear forms assembled by DOLFINx into its own CSR matrix, handed to PETSc by COO values.

``dolfinx.fem.petsc.assemble_matrix`` inserts every element matrix into PETSc with
``MatSetValuesLocal``: a local-to-global translation and a sorted search per entry, repeated for
each of the ~20 (3D) cells that share a matrix entry. DOLFINx's native assembler adds the same
element matrices into a :class:`dolfinx.la.MatrixCSR` with its own, cheaper insertion. This module
assembles there and then gives PETSc the finished values in one call:

- at construction the PETSc matrix gets the CSR sparsity as a COO pattern
  (``MatSetPreallocationCOO``: the global row and column of every stored entry of the owned
  rows, in CSR order);
- each :meth:`CSRAssembler.assemble` zeroes the CSR values, assembles the form (Dirichlet rows
  and columns zeroed, ``diag`` on the diagonal of a diagonal block, as DOLFINx's PETSc
  assembler does), sums the ghost rows into their owners (``scatter_reverse``) and passes the
  owned rows' value array to ``MatSetValuesCOO``, a permutation copy inside PETSc.

The PETSc matrix may be one made by DOLFINx (e.g. a block of a ``MatNest`` Jacobian: its
layout is kept, only its nonzero structure is replaced by the form's CSR pattern, which is the
same pattern DOLFINx preallocates) or one created here. Scalar spaces (block size 1) only.

Usable by any solver that re-assembles a bilinear form into PETSc (PNP, PB, Stokes blocks); the
owner calls :meth:`CSRAssembler.destroy` to free the PETSc matrix it made.

PETSc's COO assembly interface: PETSc/TAO Users Manual, ANL-21/39 rev. 3.25, sec. "Matrices",
``MatSetPreallocationCOO``/``MatSetValuesCOO``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dolfinx
import dolfinx.fem
import numpy as np
from petsc4py import PETSc

from poreflux.errors import InputError

__all__ = ["CSRAssembler", "scalar_spaces"]


def scalar_spaces(form: Any) -> bool:
    """True when every space of the compiled ``form`` has block size 1 (what
    :class:`CSRAssembler` supports)."""
    return all(V.dofmap.index_map_bs == 1 for V in form.function_spaces)


class CSRAssembler:
    """Re-assemble one bilinear form into a PETSc AIJ matrix through a DOLFINx ``MatrixCSR``.

    Parameters
    ----------
    form
        Compiled bilinear form (``dolfinx.fem.Form``) on scalar spaces.
    mat
        PETSc AIJ matrix with the form's row/column layout to assemble into (e.g. a block of
        a nest Jacobian); its nonzero structure is replaced by the form's sparsity. ``None``:
        a new matrix is created (owned here, freed by :meth:`destroy`).

    Examples
    --------
    >>> asm = CSRAssembler(dolfinx.fem.form(a))   # doctest: +SKIP
    >>> A = asm.assemble(bcs, diag=1.0)           # doctest: +SKIP
    >>> asm.destroy()                             # doctest: +SKIP
    """

    def __init__(self, form: Any, mat: Any = None) -> None:
        if not scalar_spaces(form):
            raise InputError("CSRAssembler needs scalar spaces (block size 1) on both sides")
        self.form = form
        self.csr = dolfinx.fem.create_matrix(form)
        rmap, cmap = self.csr.index_map(0), self.csr.index_map(1)
        n_owned = rmap.size_local
        indptr = self.csr.indptr
        self._nnz = int(indptr[n_owned])
        counts = np.diff(indptr[: n_owned + 1])
        rows = np.repeat(np.arange(n_owned, dtype=np.int32), counts)
        cols = np.asarray(self.csr.indices[: self._nnz], dtype=np.int32)
        grows = rmap.local_to_global(rows).astype(PETSc.IntType)
        gcols = cmap.local_to_global(cols).astype(PETSc.IntType)
        self._owns = mat is None
        if mat is None:
            comm = form.mesh.comm
            sizes = ((n_owned, rmap.size_global), (cmap.size_local, cmap.size_global))
            mat = PETSc.Mat().create(comm=comm)
            mat.setSizes(sizes)
            mat.setType(PETSc.Mat.Type.AIJ)
        else:
            (m, _), (n, _) = mat.getSizes()
            if (m, n) != (n_owned, cmap.size_local):
                raise InputError(
                    f"CSRAssembler: the PETSc matrix has local sizes {(m, n)}, the form "
                    f"{(n_owned, cmap.size_local)}: pass a matrix of the form's spaces"
                )
        mat.setPreallocationCOO(grows, gcols)
        self.mat = mat

    def assemble(self, bcs: Sequence[Any] = (), diag: float = 1.0) -> Any:
        """Assemble the form at the current coefficients into :attr:`mat` and return it.

        ``bcs`` zero the rows (test space) and columns (trial space) of their dofs; on a
        diagonal block (same space object on both sides) ``diag`` is put on the diagonal of
        the constrained rows, as :func:`dolfinx.fem.petsc.assemble_matrix` does.
        """
        self.csr.set_value(0.0)
        dolfinx.fem.assemble_matrix(self.csr, self.form, bcs=list(bcs), diag=diag)
        self.csr.scatter_reverse()
        self.mat.setValuesCOO(self.csr.data[: self._nnz], PETSc.InsertMode.INSERT_VALUES)
        return self.mat

    def destroy(self) -> None:
        """Free the PETSc matrix if it was created here (a caller's matrix is left alone)."""
        if self._owns and self.mat is not None:
            self.mat.destroy()
        self.mat = None
