"""placement run progress

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 20:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('placement_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('placement_run', schema=None) as batch_op:
        batch_op.drop_column('progress')
