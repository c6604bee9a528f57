import { Heading } from '../../../components/account/Heading.tsx';
import { UsersAdmin } from '../../../components/account/UsersAdmin.tsx';

export default function UsersPage() {
  return (
    <>
      <Heading messageKey="usersTitle" />
      <UsersAdmin />
    </>
  );
}
