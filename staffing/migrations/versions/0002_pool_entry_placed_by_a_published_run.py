"""pool entry placed by a published run

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:32:06.788666
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pool_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed_vacancy_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_foreign_key('fk_pool_entry_placed_vacancy', 'vacancy', ['placed_vacancy_id'], ['vacancy_id'])



def downgrade() -> None:
    with op.batch_alter_table('pool_entry', schema=None) as batch_op:
        batch_op.drop_constraint('fk_pool_entry_placed_vacancy', type_='foreignkey')
        batch_op.drop_column('placed_vacancy_id')

