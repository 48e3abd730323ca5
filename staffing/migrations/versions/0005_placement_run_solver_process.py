"""placement run solver process

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 01:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('placement_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('solver_process', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('placement_run', schema=None) as batch_op:
        batch_op.drop_column('solver_process')
