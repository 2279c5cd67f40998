"""nbgrader's configuration for the miniae exercises (copied into a course folder by nbgrader_course.py).

The exercises are one assignment, ``exercises``: one notebook per exercise, each with solution
cells (between ### BEGIN SOLUTION / ### END SOLUTION) and locked grade cells with points.

A grade cell a student deleted is put back from the instructor's version before grading.
nbgrader 0.9.6 puts it after the cell that preceded it in the instructor's version, and fails
(KeyError) when that cell is not a solution or grade cell, or is gone too; ``RestoreChecks``
below puts it after the nearest earlier cell the submission still has (or first), so deleting
any set of cells never stops autograde.  Nor does a student's code that kills the kernel
(``SurviveDeadKernel``): nbgrader 0.9.6 would drop the whole submission.
"""
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    Execute,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

c = get_config()  # noqa: F821  (nbgrader provides it)


class RestoreChecks(OverwriteCells):
    """nbgrader's OverwriteCells, re-inserting a deleted grade cell after the nearest earlier
    cell of the instructor's version that the submission still has."""

    def add_missing_grade_cells(self, nb, resources):
        source = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source.source_cells]  # the instructor's order
        solutions = {cell.name for cell in source.solution_cells}

        def positions():
            return {cell.metadata["nbgrader"]["grade_id"]: index for index, cell in enumerate(nb.cells)
                    if "grade_id" in cell.metadata.get("nbgrader", {})}

        for grade_cell in sorted(source.grade_cells, key=lambda cell: order.index(cell.name)):
            present = positions()
            if grade_cell.name in present:
                continue
            self.log.warning(f"Missing grade cell {grade_cell.name} encountered, adding to notebook")
            index = order.index(grade_cell.name)
            earlier = [present[name] for name in order[:index] if name in present]
            cell = self.missing_cell_transform(source.source_cells[index], grade_cell.max_score,
                                               is_solution=grade_cell.name in solutions)
            nb.cells.insert(max(earlier) + 1 if earlier else 0, cell)
        return nb, resources


class SurviveDeadKernel(Execute):
    """nbgrader's Execute, except that a kernel that dies (the student's code called os._exit, crashed
    the interpreter, or ran out of memory) does not stop autograde: that cell and every code cell after
    it get an error output saying so, so they score 0 and the cells before keep their points.
    (nbgrader 0.9.6 itself drops the whole submission: "Removing failed assignment".)"""

    def preprocess(self, nb, resources=None, km=None):
        self.died_in = None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self.died_in is None:
            try:
                return super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self.died_in = index
        why = (f"the kernel died while cell {self.died_in} ran (os._exit, a crash, or out of memory): "
               "this cell did not run")
        cell.outputs.append(NotebookNode(output_type="error", ename="DeadKernelError", evalue=why,
                                         traceback=[f"DeadKernelError: {why}"]))
        return cell, resources


c.CourseDirectory.course_id = "miniae"
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, RestoreChecks,
                                      CheckCellMetadata]
c.RestoreChecks.add_missing_cells = True
c.Autograde.autograde_preprocessors = [SurviveDeadKernel, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                       SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
# the longest check cell trains two small models; a stuck student loop should not hang the grader
c.Execute.timeout = 300  # (SurviveDeadKernel, a subclass, reads it too)
