import { FluxProFill } from '../../../nodes/FluxProFill/FluxProFill.node';
import { operations } from '../../../nodes/FluxProFill/actions/router';

const operationParameter = new FluxProFill().description.properties.find(
	(property) => property.name === 'operation',
)!;
const offered = operationParameter.options!.map((option) => (option as { value: string }).value);

describe('the operations', () => {
	it('the node offers exactly the operations the router runs, and defaults to one of them', () => {
		expect([...offered].sort()).toEqual(Object.keys(operations).sort());
		expect(offered).toContain(operationParameter.default);
	});

	it.each(Object.entries(operations))(
		"%s's parameters are shown for it alone",
		(name, operation) => {
			expect(operation.description.length).toBeGreaterThan(0);
			for (const property of operation.description)
				expect({
					property: property.name,
					operation: property.displayOptions?.show?.operation,
				}).toEqual({
					property: property.name,
					operation: [name],
				});
		},
	);
});
