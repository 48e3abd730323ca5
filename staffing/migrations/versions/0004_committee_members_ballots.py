"""committee members ballots

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:54:22.554057
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ballot',
    sa.Column('vacancy_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('voter', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('teacher_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.teacher_id'], ),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancy.vacancy_id'], ),
    sa.PrimaryKeyConstraint('vacancy_id', 'voter', 'teacher_id')
    )


def downgrade() -> None:
    op.drop_table('ballot')
